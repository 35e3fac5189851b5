import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../firmware/config/load.js';
import { rewardsJson } from '../../../firmware/rewards/output.js';
import { simLineOffsets, Simulator } from '../../../firmware/sim/simulator.js';
import { EmulatedHypervisor } from '../../../firmware/skywire/emulated-hypervisor.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { waitFor } from '../../helpers/wait.js';

const H = 3_600_000;
const midnight = Date.UTC(2025, 2, 14);
let sim: Simulator | undefined;
let external: EmulatedHypervisor | undefined;

afterEach(async () => {
  await sim?.stop();
  await external?.stop();
  sim = external = undefined;
});

/**
 * A 4-board simulator switched on a minute after midnight UTC. Its Skywire side runs on a clock that follows real
 * time from there and that the test moves forward by hours; everything polls every 50 ms of real time.
 */
async function startSim(skywire: { hypervisorUrl?: string } = {}) {
  const t0 = performance.now();
  const clock = { offset: midnight + 60_000, now: () => clock.offset + (performance.now() - t0) };
  const config = defaultConfig({
    box: { boards: 4 },
    supervisor: { power_on_gap_ms: 20, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 500 },
  });
  sim = new Simulator({
    config,
    bootMs: 50,
    skywire: { now: clock.now, followMs: 20, summaryPollMs: 50, balancePollMs: 50, ...skywire },
  });
  await sim.start();
  const s = sim;
  await waitFor('all boards up', () => s.supervisor.view().boards.every((b) => b.status === 'up'));
  return { sim: s, clock };
}

/** Waits until a whole poll of the hypervisor has run after this call (polls run one after the other). */
async function nextPoll(s: Simulator): Promise<void> {
  const before = s.skywire!.hypervisor!.requests.length;
  await waitFor('a hypervisor poll', () => s.skywire!.hypervisor!.requests.length >= before + 2);
}

describe('rewards in the simulated Skyminer', () => {
  it('reports every board online and on track, with traffic, through the emulated hypervisor', async () => {
    const { sim } = await startSim();
    await waitFor('every visor online with a rate', () =>
      rewardsJson(sim.rewards!.view()).boards.every((b) => b.online && b.rx_bps !== null),
    );
    const json = rewardsJson(sim.rewards!.view());
    expect(json.boards.map((b) => [b.board, b.on_track, b.reasons])).toEqual([
      [1, true, []],
      [2, true, []],
      [3, true, []],
      [4, true, []],
    ]);
    expect(json.boards.every((b) => /^02[0-9a-f]{64}$/.test(b.pk ?? ''))).toBe(true);
    await waitFor('the balance', () => rewardsJson(sim.rewards!.view()).box.balance_sky !== null);
    expect(rewardsJson(sim.rewards!.view()).box).toMatchObject({
      balance_sky: 0,
      coin_hours: 0,
      stale: false,
    });
  });

  it('takes a board visor offline when the board is switched off, and off track once 75% is out of reach', async () => {
    const { sim, clock } = await startSim();
    await waitFor('board 3 online', () => sim.rewards!.view().boards[2]!.online);
    await nextPoll(sim);
    // Just after midnight, with seconds banked: the whole day is still ahead.
    await sim.supervisor.operate(3, 'off', 'test');
    await waitFor('board 3 visor offline', () => !sim.rewards!.view().boards[2]!.online);
    expect(sim.rewards!.view().boards[2]).toMatchObject({ onTrack: true, reasons: [] });

    clock.offset = midnight + 5 * H + 55 * 60_000; // 05:55: 18 h 05 min left, enough for 75%
    await nextPoll(sim);
    expect(sim.rewards!.view().boards[2]!.onTrack).toBe(true);

    clock.offset = midnight + 6 * H + 5 * 60_000; // 06:05: under 18 h left, and almost nothing banked
    await nextPoll(sim);
    const b3 = rewardsJson(sim.rewards!.view()).boards[2]!;
    expect(b3).toMatchObject({ board: 3, online: false, on_track: false, rx_bps: null, tx_bps: null });
    // 17 h 55 min left is 74.65% of the day: the seconds banked before the switch-off decide the rounding.
    expect(b3.reasons).toHaveLength(1);
    expect(b3.reasons[0]).toMatch(/^uptime cannot reach 75% today \(at most 74\.[67]%\)$/);
    expect(b3.uptime_today_pct).toBeLessThan(0.5);
    expect(
      rewardsJson(sim.rewards!.view())
        .boards.filter((b) => b.on_track)
        .map((b) => b.board),
    ).toEqual([1, 2, 4]);
  });

  it('takes a board visor offline when its reset line is held low, and restarts it with fresh counters', async () => {
    const { sim } = await startSim();
    const visor = sim.skywire!.visors[3]!;
    await waitFor('board 4 visor online', () => visor.online);
    const firstTransport = (visor.summary(0).overview as { transports: { id: string }[] }).transports[0]!.id;
    sim.chip.drive(simLineOffsets(4).reset, 0);
    await waitFor('board 4 visor offline', () => !visor.online);
    sim.chip.drive(simLineOffsets(4).reset, 1);
    await waitFor('board 4 visor back', () => visor.online);
    const again = (visor.summary(0).overview as { transports: { id: string }[] }).transports[0]!.id;
    expect(again).not.toBe(firstTransport);
    await waitFor('a rate again after the restart', () => sim.rewards!.view().boards[3]!.rxBps !== null);
    expect(sim.rewards!.view().boards[3]!.rxBps).toBeGreaterThan(0);
  });

  it('sets the reward address on the board itself for a visor the hypervisor cannot reach, and says which way took', async () => {
    const { sim, clock } = await startSim();
    await waitFor('every visor listed', () => sim.rewards!.view().boards.every((b) => b.online));
    // Board 3's visor runs but has lost its link to the hypervisor: the hypervisor no longer lists it.
    const visor3 = sim.skywire!.visors[2]!;
    visor3.stop(clock.now());
    await waitFor('board 3 not listed', () => !sim.rewards!.view().boards[2]!.online);
    const address = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
    await sim.rewards!.setRewardAddress(address);
    const ways = () =>
      rewardsJson(sim.rewards!.view()).boards.map((b) => [
        b.board,
        b.reward_address_status,
        b.reward_address_via,
      ]);
    await waitFor('board 3 set on the board', () => ways()[2]![2] === 'board');
    expect(ways()).toEqual([
      [1, 'set', 'hypervisor'],
      [2, 'set', 'hypervisor'],
      [3, 'set', 'board'],
      [4, 'set', 'hypervisor'],
    ]);
    // The agent wrote the visor's own file, which the heartbeat reports and the hypervisor reads once it is back.
    expect(visor3.rewardAddress).toBe(address);
    expect(sim.supervisor.telemetryOf(3)?.visor?.reward_address).toBe(address);
    visor3.start(clock.now());
    await waitFor('board 3 set through the hypervisor', () => ways()[2]![2] === 'hypervisor');
    expect(ways()[2]).toEqual([3, 'set', 'hypervisor']);
  });

  it('reads an external hypervisor given by URL with credentials, matching visors by local_ip', async () => {
    const visors = [2, 3].map(
      (n) => new EmulatedVisor({ pk: emulatedPk(`ext${n}`), localIp: `192.168.0.${n + 1}` }),
    );
    for (const v of visors) v.start(midnight);
    external = new EmulatedHypervisor({
      visors: () => visors,
      password: 'hunter2',
      now: () => midnight + 6 * H,
    });
    await external.start();
    const { sim } = await startSim({
      hypervisorUrl: external.url.replace('http://', 'http://admin:hunter2@'),
    });
    expect(sim.skywire!.hypervisor).toBeNull();
    await waitFor('external visors read', () => sim.rewards!.view().boards[1]!.pk !== null);
    const json = rewardsJson(sim.rewards!.view());
    expect(json.boards.map((b) => b.pk)).toEqual([null, visors[0]!.pk, visors[1]!.pk, null]);
    expect(json.boards[0]!.reasons).toEqual(['no visor seen at 192.168.0.2']);
    expect(external.logins).toBe(1);
  });
});
