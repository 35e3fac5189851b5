// The board's visor service in the whole simulated box: the manager's visor is the hypervisor, each worker gets its
// key over the firmware's authenticated channel (the supervisor's answer to its heartbeats), and a visor that dies
// is restarted by its board's agent without the board being reset.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../firmware/config/load.js';
import { boardJson } from '../../firmware/console/format.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { waitFor } from '../helpers/wait.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function startSim(): Promise<{ sim: Simulator; events: SupervisorEvent[] }> {
  const events: SupervisorEvent[] = [];
  const config = defaultConfig({
    box: { boards: 4 },
    supervisor: { power_on_gap_ms: 20, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 500 },
  });
  sim = new Simulator({ config, bootMs: 50, events: (e) => events.push(e), skywire: { ledgerPath: null } });
  await sim.start();
  return { sim, events };
}

const visorOf = (s: Simulator, board: number) => s.supervisor.view().boards[board - 1]!.telemetry?.visor;

describe("the boards' visors in the simulated box", () => {
  it("runs the manager's visor as the hypervisor and gives every worker its key over the authenticated channel", async () => {
    const { sim } = await startSim();
    const s = sim;
    await waitFor(
      'every visor running',
      () => [1, 2, 3, 4].every((b) => visorOf(s, b)?.status === 'running'),
      15_000,
    );
    const hv = visorOf(s, 1)!;
    expect(hv.hypervisor_pk).toBe(hv.pk);
    for (const b of [2, 3, 4]) {
      expect(visorOf(s, b)).toMatchObject({ hypervisor_pk: hv.pk, version: 'v1.3.28', dmsg_connected: true });
      expect(visorOf(s, b)!.pk).not.toBe(hv.pk);
    }
    // The emulated hypervisor lists every board's visor, started by the boards' own visor services.
    expect(s.skywire!.visors.every((v) => v.online)).toBe(true);
    // `boards --json` carries it per board.
    expect(boardJson(s.supervisor.view().boards[2]!)).toMatchObject({
      visor: { status: 'running', hypervisor_pk: hv.pk },
    });
  });

  it('brings a crashed visor back without resetting its board, and never stops its watchdog', async () => {
    const { sim, events } = await startSim();
    const s = sim;
    await waitFor('board 3 visor running', () => visorOf(s, 3)?.status === 'running', 15_000);
    const boots = s.boards[2]!.boots;
    s.visorHosts.get(3)!.process!.exit(2, null);
    await waitFor(
      'board 3 visor restarted',
      () => visorOf(s, 3)?.restarts === 1 && visorOf(s, 3)?.status === 'running',
      15_000,
    );
    expect(visorOf(s, 3)).toMatchObject({ last_exit: 'exit code 2', sick: false });
    expect(s.boards[2]!.boots).toBe(boots);
    expect(s.supervisor.view().boards[2]!.status).toBe('up');
    expect(events.filter((e) => e.board === 3).map((e) => e.event)).toContain('visor-restarted');
    expect(events.some((e) => e.board === 3 && (e.event === 'rebooted' || e.event === 'failed'))).toBe(false);
  });
});
