// The QEMU box bench: four virt boards booted from the emulator image (test/box), measuring first power-on -> all
// boards up, a worker's boot -> its first heartbeat, and hang -> failed / hang -> recovered over repeated kernel
// hangs (QMP stop), beside a simulated box of four boards with the same supervisor timings, measured in the same
// run. Host times come from QEMU (the hang, the manager's line edges in its trace); the supervisor's own clock
// (`events --json` at the manager's console) times what happens between two of its events. BOX_HANGS sets the
// number of hangs (10); BOX_BENCH_ONLY=sim or qemu runs one side.
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { defaultConfig } from '../../firmware/config/load.js';
import { ScenarioRunner } from '../../firmware/sim/scenario.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { Box, eventsJson, linesOf, loginManager, managerCommand, type EventReport } from '../box/box.js';
import { buildBoxImage } from '../box/box-image.js';

const BOARDS = 4;
const WORKERS = [2, 3, 4];
const HANGS = Number(process.env.BOX_HANGS ?? 10);
const PASSWORD = 'skyminer-bench-console';
/** The image's supervisor settings (images/boards/qemu-virt-arm64.toml) that the simulator takes too. */
const IMAGE_SUPERVISOR = {
  boot_timeout_s: 300,
  watchdog_timeout_s: 10,
  heartbeat_timeout_ms: 10_000,
  probe_timeout_ms: 5000,
};
/** The simulator's own boot time (`skyminer sim`'s default). */
const SIM_BOOT_MS = 3000;

interface Figures {
  allUpS: number;
  bootToHeartbeatS: number[];
  hangToFailedS: number[];
  hangToRecoveredS: number[];
  /** From the reset line (or the simulator's reset) to the first heartbeat of the new boot. */
  resetToHeartbeatS: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const first = (events: EventReport[], board: number, kind: string, afterT = -1): EventReport | undefined =>
  events.find((e) => e.board === board && e.event === kind && e.t > afterT);

async function qemuFigures(): Promise<Figures> {
  const image = await buildBoxImage(PASSWORD);
  const box = await Box.start({ image, boards: BOARDS });
  try {
    const poweredAt = box.manager.history[0]!.atMs;
    await loginManager(box, PASSWORD);
    let events: EventReport[] = [];
    await until(
      'every board up',
      async () => {
        // The console answers before the supervisor's control socket exists: not up yet, ask again.
        const read = await eventsJson(box).catch(() => undefined);
        if (!read) return false;
        events = read;
        return [1, ...WORKERS].every((n) => first(events, n, 'up'));
      },
      900_000,
    );
    // Host time of board 2's power-on edge is the supervisor's `power-on` of board 2: the rest follows in its clock.
    const edge = box.edgesOf(linesOf(2).power).find((e) => e.level === 1)!;
    const powerOn2 = first(events, 2, 'power-on')!;
    const lastUp = Math.max(...[1, ...WORKERS].map((n) => first(events, n, 'up')!.t));
    const allUpS = (edge.atMs - poweredAt) / 1000 + (lastUp - powerOn2.t);
    const bootToHeartbeatS = WORKERS.map((n) => first(events, n, 'up')!.t - first(events, n, 'power-on')!.t);

    const hangToFailedS: number[] = [];
    const hangToRecoveredS: number[] = [];
    const resetToHeartbeatS: number[] = [];
    for (let i = 0; i < HANGS; i++) {
      const n = WORKERS[i % WORKERS.length]!;
      const b = box.board(n);
      const { reset } = linesOf(n);
      const before = Math.max(0, ...(await eventsJson(box, n)).map((e) => e.t));
      // Hung at a random point of its heartbeat period.
      await sleep(Math.random() * 1000);
      const hungAt = Date.now();
      await b.freeze();
      await until(
        `board ${n}'s reset line`,
        () => box.edgesOf(reset, hungAt).some((e) => e.level === 1),
        120_000,
      );
      const resetAt = box.edgesOf(reset, hungAt).find((e) => e.level === 1)!.atMs;
      let mine: EventReport[] = [];
      await until(
        `board ${n} recovered`,
        async () => {
          await sleep(3000);
          mine = await eventsJson(box, n);
          return first(mine, n, 'recovered', before) !== undefined;
        },
        900_000,
      );
      const failed = first(mine, n, 'failed', before)!;
      const resetStep = mine.find((e) => e.event === 'restart' && e.action === 'reset' && e.t > before)!;
      const recovered = first(mine, n, 'recovered', before)!;
      const hangToReset = (resetAt - hungAt) / 1000;
      hangToFailedS.push(hangToReset - (resetStep.t - failed.t));
      hangToRecoveredS.push(hangToReset + (recovered.t - resetStep.t));
      resetToHeartbeatS.push(recovered.t - resetStep.t);
      console.log(
        `  QEMU hang ${i + 1}/${HANGS} board ${n}: failed ${hangToFailedS.at(-1)!.toFixed(2)} s, reset line ${hangToReset.toFixed(2)} s, recovered ${hangToRecoveredS.at(-1)!.toFixed(1)} s`,
      );
      // The restart cap (3 an hour) would quarantine a board hung this often: the count is cleared, as an operator would.
      await managerCommand(box, `board ${n} release`);
    }
    if (box.wiringErrors.length) throw new Error(`wiring: ${box.wiringErrors.join('; ')}`);
    return { allUpS, bootToHeartbeatS, hangToFailedS, hangToRecoveredS, resetToHeartbeatS };
  } finally {
    await box.close();
    // The image (2 GB, uncompressed) was built for this run only.
    await rm(dirname(image), { recursive: true, force: true });
  }
}

async function simulatorFigures(): Promise<Figures> {
  const config = defaultConfig({
    box: { boards: BOARDS },
    supervisor: { ...IMAGE_SUPERVISOR, restart_cap: 100 },
  });
  const seen: { at: number; event: SupervisorEvent }[] = [];
  const sim = new Simulator({
    config,
    bootMs: SIM_BOOT_MS,
    events: (event) => seen.push({ at: Date.now(), event }),
  });
  const startAt = Date.now();
  await sim.start();
  const runner = new ScenarioRunner(sim, { faults: [] });
  const find = (board: number, kind: string, after = 0) =>
    seen.find((x) => x.event.board === board && x.event.event === kind && x.at >= after);
  try {
    await until('every simulated board up', () => [1, ...WORKERS].every((n) => find(n, 'up')), 60_000);
    const allUpS = (Math.max(...[1, ...WORKERS].map((n) => find(n, 'up')!.at)) - startAt) / 1000;
    const bootToHeartbeatS = WORKERS.map((n) => (find(n, 'up')!.at - find(n, 'power-on')!.at) / 1000);
    const hangToFailedS: number[] = [];
    const hangToRecoveredS: number[] = [];
    const resetToHeartbeatS: number[] = [];
    for (let i = 0; i < HANGS; i++) {
      const n = WORKERS[i % WORKERS.length]!;
      await sleep(Math.random() * 1000);
      const hungAt = Date.now();
      runner.inject({ kind: 'hang', at_s: 0, board: n });
      await until(`simulated board ${n} recovered`, () => find(n, 'recovered', hungAt) !== undefined, 60_000);
      const failed = find(n, 'failed', hungAt)!;
      const resetStep = seen.find(
        (x) =>
          x.event.board === n && x.event.event === 'restart' && x.event.action === 'reset' && x.at >= hungAt,
      );
      const recovered = find(n, 'recovered', hungAt)!;
      hangToFailedS.push((failed.at - hungAt) / 1000);
      hangToRecoveredS.push((recovered.at - hungAt) / 1000);
      if (resetStep) resetToHeartbeatS.push((recovered.at - resetStep.at) / 1000);
    }
    return { allUpS, bootToHeartbeatS, hangToFailedS, hangToRecoveredS, resetToHeartbeatS };
  } finally {
    runner.stop();
    await sim.stop();
  }
}

const spread = (xs: number[]): string =>
  xs.length === 0
    ? 'none'
    : `n=${xs.length} median ${percentile(xs, 50).toFixed(2)} s, p99 ${percentile(xs, 99).toFixed(2)} s, max ${Math.max(...xs).toFixed(2)} s`;

export default async function (): Promise<void> {
  const qemu = spawnSync('qemu-system-aarch64', ['--version'], { encoding: 'utf8' });
  if (qemu.status !== 0) {
    console.log('skipped: qemu-system-aarch64 not found (Debian package qemu-system-arm)');
    return;
  }
  const benchStart = Date.now();
  // BOX_BENCH_ONLY=sim|qemu runs one side (the simulator's needs no QEMU and no lock); both by default.
  const only = process.env.BOX_BENCH_ONLY;
  const none: Figures = {
    allUpS: NaN,
    bootToHeartbeatS: [],
    hangToFailedS: [],
    hangToRecoveredS: [],
    resetToHeartbeatS: [],
  };
  const box = only === 'sim' ? none : await qemuFigures();
  const sim = only === 'qemu' ? none : await simulatorFigures();
  console.log(
    `${BOARDS} boards; supervisor (the QEMU profile's): 1 s heartbeats, ${IMAGE_SUPERVISOR.heartbeat_timeout_ms / 1000} s timeout, ` +
      `${IMAGE_SUPERVISOR.probe_timeout_ms / 1000} s of probes, 1 s soft-reboot ack, 200 ms reset pulse, ` +
      `boot timeout ${IMAGE_SUPERVISOR.boot_timeout_s} s. QEMU: virt boards under TCG on this machine; simulator: ${SIM_BOOT_MS / 1000} s boot.`,
  );
  const rows: [string, string, string][] = [
    ['first power-on -> all boards up', `${box.allUpS.toFixed(1)} s`, `${sim.allUpS.toFixed(1)} s`],
    ["worker's boot -> first heartbeat", spread(box.bootToHeartbeatS), spread(sim.bootToHeartbeatS)],
    ['hang -> failed', spread(box.hangToFailedS), spread(sim.hangToFailedS)],
    ['hang -> recovered', spread(box.hangToRecoveredS), spread(sim.hangToRecoveredS)],
    ['reset line -> first heartbeat', spread(box.resetToHeartbeatS), spread(sim.resetToHeartbeatS)],
  ];
  for (const [name, q, s] of rows) {
    console.log(`${name}:`);
    console.log(`  QEMU box   ${q}`);
    console.log(`  simulator  ${s}`);
  }
  console.log(`bench time ${((Date.now() - benchStart) / 1000).toFixed(0)} s`);
}
