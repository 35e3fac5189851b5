import type { HeartbeatFigures } from '../protocol/figures.js';

/**
 * The event-log entries that a board's new heartbeat means for its visor, against its previous heartbeat: the
 * visor service restarted it (`visor-restarted`), the board cannot keep it up (`visor-sick`) or can again
 * (`visor-recovered`), and its config changed from one hypervisor key to another (`visor-hypervisor`). Services health
 * `connecting` is not an event: every visor start spends five minutes in it.
 */
export function visorEvents(
  previous: HeartbeatFigures | undefined,
  next: HeartbeatFigures | undefined,
): { event: string; details: Record<string, unknown> }[] {
  const before = previous?.visor ?? null;
  const after = next?.visor ?? null;
  if (!after) return [];
  const events: { event: string; details: Record<string, unknown> }[] = [];
  if (before && after.restarts > before.restarts)
    events.push({
      event: 'visor-restarted',
      details: { restarts: after.restarts, last_exit: after.last_exit },
    });
  if (after.sick && !before?.sick)
    events.push({ event: 'visor-sick', details: { restarts: after.restarts, last_exit: after.last_exit } });
  if (!after.sick && before?.sick) events.push({ event: 'visor-recovered', details: {} });
  // A key taken for the first time is setup; only a change from one key to another is news.
  if (after.hypervisor_pk !== null && before?.hypervisor_pk && after.hypervisor_pk !== before.hypervisor_pk)
    events.push({ event: 'visor-hypervisor', details: { hypervisor_pk: after.hypervisor_pk } });
  return events;
}
