import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../firmware/config/load.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { simLineOffsets, Simulator } from '../../firmware/sim/simulator.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function startSim(boards = 4): Promise<{ sim: Simulator; events: SupervisorEvent[] }> {
  const events: SupervisorEvent[] = [];
  const config = defaultConfig({
    box: { boards },
    supervisor: { power_on_gap_ms: 20, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 500 },
  });
  sim = new Simulator({ config, bootMs: 50, events: (e) => events.push(e) });
  await sim.start();
  const s = sim;
  await waitFor('all boards up', () => s.supervisor.view().boards.every((b) => b.status === 'up'));
  return { sim: s, events };
}

describe('simulated Skyminer', () => {
  it('switches every board on once at start', async () => {
    const { sim } = await startSim(8);
    const powerOns = sim.chip.history.filter(([, offset, level]) => offset % 2 === 0 && level === 1);
    // Each board is switched on once; the order and the gap are the planner's (unit-tested with fake time).
    expect(powerOns.map(([, offset]) => offset / 2 + 2).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('resets a board through its reset line when an operator asks, and logs who asked', async () => {
    const { sim, events } = await startSim();
    const result = await sim.supervisor.operate(3, 'reset', 'console:ttyS0');
    expect(result).toEqual({ ok: true, message: 'board 3 reset' });
    const reset = simLineOffsets(3).reset;
    const pulses = sim.chip.history.filter(([, offset]) => offset === reset).map(([, , level]) => level);
    expect(pulses).toEqual([1, 0, 1]); // pulled up at attach, asserted low, released
    await waitFor('board 3 to boot again', () => sim.boards[2]!.boots === 2);
    expect(events).toContainEqual(
      expect.objectContaining({ board: 3, event: 'operator', operation: 'reset', by: 'console:ttyS0' }),
    );
  });

  it('shows a board off and silent once its power line goes low', async () => {
    const { sim } = await startSim();
    await sim.supervisor.operate(2, 'off', 'test');
    expect(sim.emulatedState(2)).toBe('off');
    expect(sim.supervisor.view().boards[1]!.status).toBe('off');
  });

  it('refuses an operation on a board that does not exist', async () => {
    const { sim } = await startSim();
    expect(await sim.supervisor.operate(9, 'reset', 'test')).toEqual({
      ok: false,
      message: 'no board 9; boards are 1 to 4',
    });
  });

  it('suspects a silent board, finds it dead by probe, and restarts it', async () => {
    const { sim, events } = await startSim();
    // Hold board 4 in reset from outside: it goes silent without the supervisor having asked for it.
    sim.chip.drive(simLineOffsets(4).reset, 0);
    await waitFor('board 4 suspect', () => sim.supervisor.view().boards[3]!.status === 'suspect');
    await waitFor('board 4 failed', () => events.some((e) => e.board === 4 && e.event === 'failed'));
  });
});
