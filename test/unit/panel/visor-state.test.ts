import { describe, expect, it } from 'vitest';
import { alertsFrom } from '../../../firmware/panel/alerts.js';
import { boardFigures } from '../../../firmware/panel/figures.js';
import { renderPage } from '../../../firmware/panel/pages/index.js';
import type { BoardVisor, PanelInput } from '../../../firmware/panel/panel-input.js';
import { sampleInput } from '../../../firmware/panel/sample-input.js';
import { visorLook } from '../../../firmware/panel/status-look.js';
import type { BoardStatus } from '../../../firmware/supervisor/board-state.js';
import { heartbeatFigures } from '../../../firmware/telemetry/heartbeat-figures.js';
import { visorFigures } from '../../helpers/visor-figures.js';
import { matchesGolden } from './golden.js';

/** The sample box with board `n`'s visor replaced (or removed, for a board without Skywire). */
function withVisor(input: PanelInput, n: number, visor: BoardVisor | undefined): PanelInput {
  const boards = { ...input.boards, [n]: { ...input.boards[n]!, visor } };
  return { ...input, boards, alerts: alertsFrom(input.box, boards, input.uplink) };
}

async function expectGolden(name: string, input: PanelInput, page: Parameters<typeof renderPage>[0]) {
  const result = await matchesGolden(name, renderPage(page, input, 0));
  expect(result.ok, result.detail).toBe(true);
}

describe("a board's visor on the panel", () => {
  it('names every state of the visor service in a word that fits beside the RAM figure, marking only an exited one', () => {
    const words = (['running', 'starting', 'stopping', 'waiting', 'stopped', 'no-key'] as const).map(
      (status) => visorLook({ status, sick: false }),
    );
    expect(words).toEqual([
      { word: 'RUN', down: false },
      { word: 'START', down: false },
      { word: 'STOP', down: false },
      { word: 'DOWN', down: true },
      { word: 'OFF', down: false },
      { word: 'NO KEY', down: false },
    ]);
    for (const w of words) expect(w.word.length).toBeLessThanOrEqual(6);
  });

  it('calls a visor the board cannot keep up sick even while it is running again', () => {
    expect(visorLook({ status: 'running', sick: true })).toEqual({ word: 'SICK', down: true });
  });

  it('shows dashes, and marks nothing, for a board without Skywire', () => {
    expect(visorLook(undefined)).toEqual({ word: '--', down: false });
  });

  it("takes the visor's state from the board's latest heartbeat", () => {
    const figures = heartbeatFigures(undefined, [], null, visorFigures({ status: 'waiting', restarts: 2 }));
    const up = { board: 2, role: 'worker', status: 'up', forS: 5, telemetry: figures } as const;
    expect(boardFigures(up)?.visor).toEqual({ status: 'waiting', sick: false });
    const noSkywire = heartbeatFigures(undefined, [], null, null);
    expect(boardFigures({ ...up, telemetry: noSkywire })?.visor).toBeUndefined();
  });

  it('raises an alert for a sick visor only, not for one waiting to be restarted', () => {
    const input = sampleInput('healthy');
    expect(withVisor(input, 3, { status: 'waiting', sick: false }).alerts).toEqual([]);
    expect(withVisor(input, 3, { status: 'waiting', sick: true }).alerts).toEqual([
      { kind: 'visor-sick', board: 3, short: 'B3 VISOR', text: 'board 3 visor sick' },
    ]);
  });

  it('shows a running visor on the board page', async () => {
    await expectGolden('board-visor-running', sampleInput('healthy'), 'board:2');
  });

  it('shows a worker still waiting for the hypervisor key on the board page', async () => {
    const input = withVisor(sampleInput('healthy'), 3, { status: 'no-key', sick: false });
    await expectGolden('board-visor-no-key', input, 'board:3');
  });

  it('shows a sick visor on the board page and counts it among the alerts', async () => {
    const input = withVisor(sampleInput('healthy'), 5, { status: 'starting', sick: true });
    await expectGolden('board-visor-sick', input, 'board:5');
    await expectGolden('overview-visor-sick', input, 'overview');
  });

  it('shows dashes for the visor of a board without Skywire', async () => {
    await expectGolden('board-visor-none', withVisor(sampleInput('healthy'), 2, undefined), 'board:2');
  });

  it('marks up boards whose visor is down with SKY! instead of UP, and nothing else', async () => {
    const input = withVisor(sampleInput('mixed'), 2, { status: 'waiting', sick: false });
    await expectGolden('overview-visor-down', input, 'overview');
    // The mark is the only difference: the same box with every visor running draws UP in those cells.
    const running = withVisor(withVisor(input, 2, { status: 'running', sick: false }), 6, {
      status: 'running',
      sick: false,
    });
    const a = renderPage('overview', input);
    const b = renderPage('overview', running);
    let differ = 0;
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 128; x++) if (a.getPixel(x, y) !== b.getPixel(x, y)) differ++;
    expect(differ).toBeGreaterThan(0);
    for (let y = 20; y < 64; y++)
      for (let x = 0; x < 128; x++) expect(a.getPixel(x, y), `(${x},${y})`).toBe(b.getPixel(x, y));
  });

  it('marks a visor that is down with a lit corner where the cells are too small for words', async () => {
    const statuses = Array.from({ length: 16 }, (): BoardStatus => 'up');
    const base = sampleInput('healthy');
    const box = {
      at: 0,
      boards: statuses.map((status, i) => ({
        board: i + 1,
        role: i === 0 ? ('manager' as const) : ('worker' as const),
        status,
        forS: 0,
      })),
    };
    const boards: PanelInput['boards'] = {};
    for (const b of box.boards)
      boards[b.board] = {
        role: b.role,
        visor: { status: b.board === 7 || b.board === 12 ? 'waiting' : 'running', sick: false },
      };
    await expectGolden('overview-16-boards-visor-down', { ...base, box, boards, alerts: [] }, 'overview');
  });

  it('never marks a board that is not up for its visor: its own status says more', () => {
    const input = sampleInput('mixed');
    // Board 5 failed: a stale visor state from before must not change its cell.
    const stale = {
      ...input,
      boards: {
        ...input.boards,
        5: { role: 'worker' as const, visor: { status: 'waiting' as const, sick: true } },
      },
    };
    const a = renderPage('overview', input);
    const b = renderPage('overview', stale);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 128; x++) expect(a.getPixel(x, y), `(${x},${y})`).toBe(b.getPixel(x, y));
  });
});
