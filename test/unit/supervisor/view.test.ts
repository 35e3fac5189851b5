import { describe, expect, it } from 'vitest';
import { panelInputFromView } from '../../../firmware/panel/panel-input.js';
import { renderOverview } from '../../../firmware/panel/pages/overview.js';
import { renderScreen } from '../../../firmware/sim/terminal.js';
import type { BoardStatus } from '../../../firmware/supervisor/board-state.js';
import { countByStatus, type BoxView } from '../../../firmware/supervisor/view.js';

const view = (statuses: BoardStatus[]): BoxView => ({
  at: 0,
  boards: statuses.map((status, i) => ({
    board: i + 1,
    role: i === 0 ? 'manager' : 'worker',
    status,
    forS: 0,
    ...(status === 'restarting' ? { step: 'reset' as const, restarts: 2 } : {}),
  })),
});

describe('box view', () => {
  it('counts every status', () => {
    expect(
      countByStatus(view(['up', 'up', 'quarantined', 'restarting', 'suspect', 'failed', 'off', 'booting'])),
    ).toEqual({
      off: 1,
      booting: 1,
      up: 2,
      suspect: 1,
      failed: 1,
      restarting: 1,
      quarantined: 1,
    });
  });

  it('draws quarantined and restarting boards differently from each other and from the rest', () => {
    const frames = (['up', 'booting', 'restarting', 'quarantined', 'failed'] as BoardStatus[]).map((s) =>
      renderOverview(panelInputFromView(view(['up', s, 'up', 'up']))),
    );
    for (let i = 0; i < frames.length; i++)
      for (let j = i + 1; j < frames.length; j++) expect(frames[i]!.equals(frames[j]!)).toBe(false);
  });

  it('names quarantined and restarting boards in the terminal view, with the step and restart count', () => {
    const screen = renderScreen(
      renderOverview(panelInputFromView(view(['up', 'restarting', 'quarantined', 'up']))),
      view(['up', 'restarting', 'quarantined', 'up']),
      '',
    );
    const plain = screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    expect(plain).toContain(' 2  restarting (reset)  2 restarts');
    expect(plain).toContain(' 3  quarantined');
  });
});
