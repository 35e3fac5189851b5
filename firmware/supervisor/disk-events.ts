/** A disk as a heartbeat reports it; only what the event log needs. */
interface ReportedDisk {
  disk: string;
  verdict: string;
  reasons: string[];
  mounted?: boolean;
}

function disksOf(telemetry: Record<string, unknown> | undefined): Map<string, ReportedDisk> {
  const out = new Map<string, ReportedDisk>();
  const disks = telemetry?.disks;
  if (!Array.isArray(disks)) return out;
  for (const d of disks as Partial<ReportedDisk>[]) {
    if (typeof d?.disk !== 'string' || typeof d.verdict !== 'string') continue;
    out.set(d.disk, {
      disk: d.disk,
      verdict: d.verdict,
      reasons: Array.isArray(d.reasons) ? d.reasons.filter((r) => typeof r === 'string') : [],
      mounted: d.mounted === true,
    });
  }
  return out;
}

/**
 * The event-log entries that a board's new heartbeat means for its disks, against its previous heartbeat: a disk
 * that appeared (`disk-added`), vanished (`disk-removed`) or whose SMART verdict changed (`disk`). The first
 * heartbeat of a board reports every disk it has, so the log says what each board started with.
 */
export function diskEvents(
  previous: Record<string, unknown> | undefined,
  next: Record<string, unknown> | undefined,
): { event: string; details: Record<string, unknown> }[] {
  const before = disksOf(previous);
  const after = disksOf(next);
  const events: { event: string; details: Record<string, unknown> }[] = [];
  for (const [name, d] of after) {
    const old = before.get(name);
    if (!old) events.push({ event: 'disk-added', details: { disk: name, verdict: d.verdict } });
    else if (old.verdict !== d.verdict)
      events.push({
        event: 'disk',
        details: { disk: name, verdict: d.verdict, was: old.verdict, reasons: d.reasons },
      });
  }
  for (const name of before.keys())
    if (!after.has(name)) events.push({ event: 'disk-removed', details: { disk: name } });
  return events;
}
