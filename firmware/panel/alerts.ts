import type { BoxView } from '../supervisor/view.js';
import type { BoardFigures, PanelAlert, UplinkState } from './panel-input.js';

/**
 * The alerts the panel shows, from the box's state: a failed or quarantined board, a refused join, a failing or
 * hot disk, a visor the board cannot keep up, the uplink down. In board order, the uplink last. Whoever builds a
 * PanelInput may use this or pass its own.
 */
export function alertsFrom(
  box: BoxView,
  boards: Record<number, BoardFigures | undefined>,
  uplink: UplinkState,
): PanelAlert[] {
  const alerts: PanelAlert[] = [];
  for (const b of box.boards) {
    const n = b.board;
    const status: string = b.status;
    if (status === 'failed')
      alerts.push({ kind: 'board-failed', board: n, short: `B${n} FAILED`, text: `board ${n} failed` });
    if (status === 'quarantined') {
      alerts.push({
        kind: 'board-quarantined',
        board: n,
        short: `B${n} QUAR`,
        text: `board ${n} quarantined`,
      });
    }
    // Someone asked for this slot's key when they should not have (or two did at once): see the events.
    if (b.joinAlert) alerts.push({ kind: 'board-join', board: n, short: `B${n} JOIN?`, text: b.joinAlert });
    const disk = boards[n]?.disk;
    if (disk?.verdict === 'failing') {
      alerts.push({ kind: 'disk-failing', board: n, short: `B${n} DISK`, text: `board ${n} disk failing` });
    }
    if (disk?.verdict === 'hot') {
      const t = disk.tempC === undefined ? '' : ` ${Math.round(disk.tempC)}°C`;
      alerts.push({ kind: 'disk-hot', board: n, short: `B${n} HOT`, text: `board ${n} disk hot${t}` });
    }
    // Only a visor the board cannot keep up after its service's retries: a restart on its own is no alert.
    if (boards[n]?.visor?.sick)
      alerts.push({ kind: 'visor-sick', board: n, short: `B${n} VISOR`, text: `board ${n} visor sick` });
  }
  if (uplink === 'down') alerts.push({ kind: 'uplink-down', short: 'NET DOWN', text: 'uplink down' });
  return alerts;
}

/** A key that changes when an alert appears (not when one clears): a new alert pre-empts the page cycle. */
export function alertKeys(alerts: readonly PanelAlert[]): Set<string> {
  return new Set(alerts.map((a) => `${a.kind}:${a.board ?? ''}`));
}
