import type { HeartbeatFigures } from '../protocol/figures.js';

/**
 * The event-log entries that a board's new heartbeat means for its disks, against its previous heartbeat: a disk
 * that appeared (`disk-added`), vanished (`disk-removed`) or whose SMART verdict changed (`disk`). The first
 * heartbeat of a board reports every disk it has, so the log says what each board started with.
 */
export function diskEvents(
  previous: HeartbeatFigures | undefined,
  next: HeartbeatFigures | undefined,
): { event: string; details: Record<string, unknown> }[] {
  const before = new Map((previous?.disks ?? []).map((d) => [d.disk, d]));
  const after = new Map((next?.disks ?? []).map((d) => [d.disk, d]));
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
