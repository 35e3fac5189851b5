// Supervision bench: repeated hangs on a simulated box with real sockets and the shipped timings, measuring
// hang -> failed and hang -> recovered; then load and network-cut faults shorter than the heartbeat timeout,
// counting the restarts they cause (the target is none).
import { defaultConfig } from '../../firmware/config/load.js';
import { ScenarioRunner } from '../../firmware/sim/scenario.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';

const BOARDS = 16;
const HANG_ROUNDS = 6;
const SHORT_FAULT_ROUNDS = 2;
const BOOT_MS = 2000;

interface Seen {
  at: number;
  event: SupervisorEvent;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export default async function (): Promise<void> {
  // The shipped detection timings (1 s heartbeats, 1.5 s timeout, 1.2 s of probes); a cap high enough that the
  // repeated hangs are measured rather than quarantined, and a short power-on gap so the box is up quickly.
  const config = defaultConfig({
    box: { boards: BOARDS },
    supervisor: { restart_cap: 100, power_on_gap_ms: 50 },
  });
  const seen: Seen[] = [];
  const sim = new Simulator({
    config,
    bootMs: BOOT_MS,
    events: (event) => seen.push({ at: Date.now(), event }),
  });
  const benchStart = Date.now();
  await sim.start();
  const runner = new ScenarioRunner(sim, { faults: [] });
  const workers = Array.from({ length: BOARDS - 1 }, (_, i) => i + 2);
  const allUp = () => sim.supervisor.view().boards.every((b) => b.status === 'up');
  try {
    await until('all boards up', allUp, 30_000);
    const s = config.supervisor;
    console.log(
      `${BOARDS} boards (${workers.length} supervised), heartbeat ${s.heartbeat_interval_ms} ms, timeout ${s.heartbeat_timeout_ms} ms, ` +
        `probes every ${s.probe_interval_ms} ms for ${s.probe_timeout_ms} ms, soft-reboot ack ${s.soft_reboot_ack_ms} ms, boot ${BOOT_MS} ms`,
    );

    const detect: number[] = [];
    const recover: number[] = [];
    for (let round = 0; round < HANG_ROUNDS; round++) {
      // Each board hangs at a random point of its heartbeat period, all in parallel.
      const hungAt = new Map<number, number>();
      await Promise.all(
        workers.map(async (board) => {
          await sleep(Math.random() * s.heartbeat_interval_ms);
          hungAt.set(board, Date.now());
          runner.inject({ kind: 'hang', at_s: 0, board });
        }),
      );
      const recoveredOf = (board: number) =>
        seen.find(
          (x) => x.event.board === board && x.event.event === 'recovered' && x.at > hungAt.get(board)!,
        );
      await until(
        'every hung board recovered',
        () => workers.every((b) => recoveredOf(b) !== undefined),
        60_000,
      );
      for (const board of workers) {
        const t0 = hungAt.get(board)!;
        const failed = seen.find((x) => x.event.board === board && x.event.event === 'failed' && x.at > t0);
        if (failed) detect.push(failed.at - t0);
        recover.push(recoveredOf(board)!.at - t0);
      }
      await until('all boards up', allUp, 30_000);
    }

    // Faults shorter than the timeout: a board that is fine must not be restarted.
    const timeout = s.heartbeat_timeout_ms;
    const shortStart = Date.now();
    let loads = 0;
    let cuts = 0;
    for (let round = 0; round < SHORT_FAULT_ROUNDS; round++) {
      await Promise.all(
        workers.map(async (board, i) => {
          await sleep(Math.random() * s.heartbeat_interval_ms);
          if ((i + round) % 2 === 0) {
            loads++;
            const delay = 100 + Math.floor(Math.random() * (timeout - 150));
            runner.inject({ kind: 'load', at_s: 0, board, delay_ms: delay, for_s: 5 });
          } else {
            cuts++;
            const forS = (100 + Math.random() * (timeout - 150)) / 1000;
            runner.inject({ kind: 'network-cut', at_s: 0, board, for_s: forS });
          }
        }),
      );
      await sleep(7000);
    }
    const after = seen.filter((x) => x.at >= shortStart);
    const falseRestarts = after.filter((x) => x.event.event === 'restart').length;
    const suspects = after.filter((x) => x.event.event === 'suspect').length;

    detect.sort((a, b) => a - b);
    recover.sort((a, b) => a - b);
    const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `hang -> failed:    n=${detect.length}  median ${f(percentile(detect, 50))}  p99 ${f(percentile(detect, 99))}  max ${f(detect.at(-1)!)}  (target p99 <= 3.00 s)`,
    );
    console.log(
      `hang -> recovered: n=${recover.length}  median ${f(percentile(recover, 50))}  p99 ${f(percentile(recover, 99))}  (soft reboot unanswered, reset pulse, ${BOOT_MS / 1000} s boot)`,
    );
    console.log(
      `faults shorter than the ${timeout} ms timeout: ${loads} load (100-${timeout - 50} ms late), ${cuts} network-cut (0.1-${((timeout - 50) / 1000).toFixed(2)} s): ` +
        `${falseRestarts} restarts (target 0), ${suspects} suspicions cleared by probe`,
    );
    console.log(`bench time ${f(Date.now() - benchStart)}`);
  } finally {
    runner.stop();
    await sim.stop();
  }
}
