import { disksFromView } from '../../firmware/control/firmware-sources.js';
import { panelInput } from '../../firmware/panel/figures.js';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../firmware/config/load.js';
import { loadScenario, parseScenario, ScenarioRunner, type Scenario } from '../../firmware/sim/scenario.js';
import { simLineOffsets, Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';

const fixture = (name: string) => new URL(`../fixtures/scenarios/${name}`, import.meta.url).pathname;

let running: { sim: Simulator; runner: ScenarioRunner } | undefined;
afterEach(async () => {
  running?.runner.stop();
  await running?.sim.stop();
  running = undefined;
});

/** Plays a scenario against the in-process simulator for its duration; returns the events. */
async function play(scenario: Scenario): Promise<{ sim: Simulator; events: SupervisorEvent[] }> {
  const events: SupervisorEvent[] = [];
  const overrides = scenario.config ?? {};
  const config = defaultConfig({ ...overrides, box: { boards: scenario.boards ?? 8 } });
  const sim = new Simulator({
    config,
    bootMs: scenario.boot_ms ?? 100,
    events: (e) => events.push(e),
    ...(scenario.disks
      ? { disks: scenario.disks.map((d) => ({ board: d.board, disk: d.disk, report: d.smartctl })) }
      : {}),
  });
  await sim.start();
  const runner = new ScenarioRunner(sim, scenario);
  running = { sim, runner };
  runner.start();
  await new Promise((r) => setTimeout(r, (scenario.duration_s ?? 5) * 1000));
  return { sim, events };
}

const names = (events: SupervisorEvent[], board: number) =>
  events
    .filter((e) => e.board === board && e.event !== 'fault' && !e.event.startsWith('disk'))
    .map((e) => (e.event === 'restart' ? `restart:${String(e.action)}` : e.event));

describe('fault scenarios in the simulator', () => {
  it('restarts hung, cut-off and stalled boards, rides out short cuts and load, and quarantines a crash loop', async () => {
    const { sim, events } = await play(await loadScenario(fixture('faults-quick.json')));
    // Hang: no heartbeat, no probe answer; the soft reboot goes unanswered, the reset line brings it back.
    const faultAt = events.find((e) => e.event === 'fault')!.t;
    expect(
      names(
        events.filter((e) => e.t >= faultAt),
        3,
      ).slice(0, 5),
    ).toEqual(['suspect', 'failed', 'restart:soft', 'restart:reset', 'recovered']);
    // Crash: it rebooted by itself faster than the detection; the supervisor only notes it.
    // A network cut and a load shorter than the timeout: at most a suspicion the probe clears, never a restart.
    // (Under a busy test machine a heartbeat can be late enough to raise a suspicion; that is the probe's job.)
    const calm = (board: number) => names(events, board).filter((e) => e !== 'suspect' && e !== 'up');
    expect(calm(4)).toEqual(['power-on', 'rebooted']);
    expect(calm(5)).toEqual(['power-on']);
    expect(calm(7)).toEqual(['power-on']);
    // A long cut looks like death: restarted, and back.
    expect(names(events, 6)).toEqual(expect.arrayContaining(['failed', 'recovered']));
    expect(names(events, 6).at(-1)).toBe('recovered');
    // Stalled agent: reset before its own 1 s watchdog fires, with this quick detection.
    expect(names(events, 8).at(-1)).toBe('recovered');
    // Crash loop: three restarts, then quarantined and switched off, with an alert.
    const loop = names(events, 2);
    expect(loop.filter((e) => e === 'recovered')).toHaveLength(3);
    expect(loop.slice(-3)).toEqual(['failed', 'quarantined', 'alert']);
    expect(sim.supervisor.view().boards[1]!.status).toBe('quarantined');
    expect(sim.chip.level(simLineOffsets(2).power)).toBe(0);
    // Every other board ends up.
    expect(
      sim.supervisor
        .view()
        .boards.filter((b) => b.status === 'up')
        .map((b) => b.board),
    ).toEqual([1, 3, 4, 5, 6, 7, 8]);
    // Every restart carries its action.
    for (const e of events.filter((e) => e.event === 'restart'))
      expect(['soft', 'reset', 'power-cycle']).toContain(e.action);
  }, 20_000);

  it('lets the board watchdog reset a stalled agent, and reports the reason after the reboot', async () => {
    const { events } = await play({
      boards: 4,
      duration_s: 2.5,
      boot_ms: 100,
      config: {
        supervisor: {
          heartbeat_interval_ms: 100,
          heartbeat_timeout_ms: 1500,
          power_on_gap_ms: 20,
          tick_ms: 10,
        },
        agent: { watchdog_timeout_s: 1 },
      },
      faults: [{ at_s: 0.5, board: 3, kind: 'agent-stall' }],
    });
    expect(names(events, 3)).toEqual(['power-on', 'up', 'rebooted']);
    expect(events.find((e) => e.board === 3 && e.event === 'rebooted')).toMatchObject({
      reset_reason: 'watchdog',
    });
  });

  it('switches the boards back on one by one after a power loss, from a fresh supervisor', async () => {
    const { sim, events } = await play(await loadScenario(fixture('power-loss-quick.json')));
    const fault = events.find((e) => e.event === 'fault')!;
    const after = events.filter((e) => e.t > fault.t && e.event === 'power-on');
    expect(after.map((e) => e.board)).toEqual([2, 3, 4]);
    const gaps = after.slice(1).map((e, i) => e.t - after[i]!.t);
    // Event times are rounded to 10 ms and taken when the loop gets to them: half the gap proves the stagger.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(0.05 - 1e-9); // times are decimals: 1.23 - 1.18 < 0.05
    expect(sim.supervisor.view().boards.every((b) => b.status === 'up')).toBe(true);
  });
});

describe('network outages in the simulator: the network is at fault, not the boards', () => {
  /** What an outage must never cause: a restart, a failure, a quarantine, a board switched off. */
  const harm = (events: SupervisorEvent[]) =>
    events.filter((e) => ['failed', 'restart', 'quarantined', 'off'].includes(e.event));

  const allUp = (sim: Simulator) => sim.supervisor.view().boards.every((b) => b.status === 'up');

  it('rides out a switch reboot: one network alert, nothing restarted or switched off', async () => {
    const { sim, events } = await play(await loadScenario(fixture('switch-reboot.json')));
    expect(harm(events)).toEqual([]);
    expect(events.filter((e) => e.event === 'network-silence')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'alert')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'network-back')).toHaveLength(1);
    expect(allUp(sim)).toBe(true);
    for (let b = 2; b <= 8; b++) expect(sim.chip.level(simLineOffsets(b).power)).toBe(1);
  });

  it('rides out a flapping switch, three reboots within the hour: nothing restarted, quarantined or switched off', async () => {
    const { sim, events } = await play(await loadScenario(fixture('switch-flapping.json')));
    expect(harm(events)).toEqual([]);
    // One alert per reboot; reboots that overlap on a late loop (within the settle time) are one silence.
    const silences = events.filter((e) => e.event === 'network-silence').length;
    expect(silences).toBeGreaterThanOrEqual(1);
    expect(silences).toBeLessThanOrEqual(3);
    expect(allUp(sim)).toBe(true);
    expect(sim.supervisor.view().boards.every((b) => b.restarts === 0)).toBe(true);
  }, 20_000);

  it('rides out a router reboot: the uplink down and the boards cut, nothing restarted', async () => {
    const { sim, events } = await play(await loadScenario(fixture('router-reboot.json')));
    expect(harm(events)).toEqual([]);
    expect(events.find((e) => e.event === 'network-silence')).toMatchObject({ uplink: 'down' });
    expect(allUp(sim)).toBe(true);
  });

  it('restarts a board that hung during a switch reboot, once the others are back', async () => {
    const scenario = await loadScenario(fixture('switch-reboot.json'));
    scenario.faults.push({ at_s: 1.2, kind: 'hang', board: 5 });
    scenario.duration_s = 5;
    const { sim, events } = await play(scenario);
    const back = events.find((e) => e.event === 'network-back')!;
    expect(back).toMatchObject({ still_silent: [5] });
    expect(harm(events).map((e) => `${e.board}:${e.event}`)).toEqual(['5:failed', '5:restart', '5:restart']);
    expect(harm(events)[0]!.t).toBeGreaterThanOrEqual(back.t);
    expect(allUp(sim)).toBe(true);
    expect(sim.supervisor.view().boards.find((b) => b.board === 5)!.restarts).toBe(1);
  });
});

describe('disks in the simulator', () => {
  it('logs a disk that turns failing within one SMART period, raises the alert page and stops using the disk', async () => {
    const { sim, events } = await play(await loadScenario(fixture('disk-failing.json')));
    const failing = events.find((e) => e.board === 2 && e.event === 'disk' && e.verdict === 'failing');
    const fault = events.find((e) => e.board === 2 && e.event === 'fault')!;
    expect(failing).toBeDefined();
    expect(failing!.t - fault.t).toBeLessThanOrEqual(2 + 1); // one SMART period, plus a heartbeat or two
    const view = sim.supervisor.view();
    expect(disksFromView(view).find((d) => d.board === 2 && d.disk === 'sda')).toMatchObject({
      verdict: 'failing',
      mounted: false,
    });
    const alerts = panelInput(view, undefined, 'up').alerts;
    expect(alerts).toContainEqual(expect.objectContaining({ kind: 'disk-failing', board: 2 }));
    expect(events).toContainEqual(expect.objectContaining({ board: 3, event: 'disk-removed', disk: 'sda' }));
    expect(events).toContainEqual(expect.objectContaining({ board: 4, event: 'disk-added', disk: 'sdb' }));
  });
});

describe('scenario files', () => {
  it('parses every shipped scenario', async () => {
    for (const name of [
      'faults-quick.json',
      'power-loss-quick.json',
      'box-90s.json',
      'switch-reboot.json',
      'switch-flapping.json',
      'router-reboot.json',
    ]) {
      const scenario = parseScenario(await readFile(fixture(name), 'utf8'), name);
      expect(scenario.faults.length).toBeGreaterThan(0);
    }
  });

  it('refuses a bad scenario with one line naming the entry', () => {
    expect(() => parseScenario('{"faults":[{"at_s":1,"board":2,"kind":"melt"}]}', 's.json')).toThrow(
      /^s\.json: faults\.0\.kind: /,
    );
    expect(() =>
      parseScenario('{"faults":[{"at_s":1,"board":2,"kind":"load","for_s":1}]}', 's.json'),
    ).toThrow('s.json: faults.0.delay_ms: Invalid input: expected number, received undefined');
    expect(() =>
      parseScenario('{"boards":4,"faults":[{"at_s":1,"board":7,"kind":"hang"}]}', 's.json'),
    ).toThrow('s.json: faults.0.board: board 7 of a 4-board box');
    expect(() => parseScenario('{"boards":4,', 's.json')).toThrow(/^s\.json: not JSON/);
  });
});
