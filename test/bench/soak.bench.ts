// A soak of the simulated box: 8 boards, a fault every 30 s, the control socket in use; then a hostile client
// hammering the socket. Reports the supervisor's tick lateness (calm and hammered), whether any board was
// suspected while only the socket was busy, and the trends of RSS and event-loop delay over the soak.
// SOAK_S sets the soak's length (default 180 s).
import { mkdtemp } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { defaultConfig } from '../../firmware/config/load.js';
import { ControlClient } from '../../firmware/control/client.js';
import { ControlServer } from '../../firmware/control/server.js';
import { ScenarioRunner, type Fault } from '../../firmware/sim/scenario.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import type { SupervisorOperator } from '../../firmware/supervisor/operator.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Least-squares slope of ys against xs. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Faults every 30 s from `startS`, cycling through the kinds a box meets. */
function faults(startS: number, endS: number): Fault[] {
  const out: Fault[] = [];
  let i = 0;
  for (let at = startS; at < endS; at += 30, i++) {
    const board = 2 + (i % 7);
    const kinds: Fault[] = [
      { kind: 'hang', at_s: at, board },
      { kind: 'crash', at_s: at, board },
      { kind: 'network-cut', at_s: at, board, for_s: 5 },
      { kind: 'load', at_s: at, board, delay_ms: 800, for_s: 10 },
      { kind: 'switch-reboot', at_s: at, for_s: 8 },
    ];
    out.push(kinds[i % kinds.length]!);
  }
  return out;
}

/** A client that pipelines requests and never reads an answer: the attack the socket must shrug off. */
function hostile(path: string): Socket {
  const socket = createConnection(path);
  socket.on('error', () => {});
  socket.pause();
  const line = Buffer.from('{"id":1,"method":"events","limit":1000}\n'.repeat(200));
  const push = (): void => {
    while (!socket.destroyed && socket.write(line));
  };
  socket.on('connect', push);
  socket.on('drain', push);
  return socket;
}

export default async function (): Promise<void> {
  const soakS = Number(process.env.SOAK_S ?? 180);
  const config = defaultConfig({ box: { boards: 8 } });
  const events: SupervisorEvent[] = [];
  const sim = new Simulator({ config, bootMs: 1000, events: (e) => events.push(e) });
  await sim.start();
  const operator: SupervisorOperator = {
    view: () => sim.supervisor.view(),
    operate: (b, o, by) => sim.supervisor.operate(b, o, by),
    recentEvents: (f) => sim.supervisor.recentEvents(f),
    onEvent: (l) => sim.supervisor.onEvent(l),
  };
  const dir = await mkdtemp(join(tmpdir(), 'bench-soak-'));
  const path = join(dir, 'control.sock');
  const control = new ControlServer(operator, {}, { path, group: null });
  await control.listen();
  await sleep(5000);

  // Calm: nothing but supervision.
  sim.supervisor.tickLateness();
  await sleep(10_000);
  const calmLate = sim.supervisor.tickLateness();

  // Hammered: hostile pipeliners, a tight request loop, connection churn and idle connections.
  const before = events.length;
  const attackers = [hostile(path), hostile(path), hostile(path)];
  const idle = Array.from({ length: 8 }, () => createConnection(path).on('error', () => {}));
  let stop = false;
  let served = 0;
  const loop = (async () => {
    const client = new ControlClient(path);
    while (!stop) {
      await client.request({ method: 'view' }).catch(() => {});
      served++;
    }
  })();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let hammerLate = 0;
  for (let s = 0; s < 20; s++) {
    await sleep(1000);
    hammerLate = Math.max(hammerLate, sim.supervisor.tickLateness());
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  stop = true;
  await loop;
  for (const s of [...attackers, ...idle]) s.destroy();
  const suspicions = events.slice(before).filter((e) => e.event === 'suspect' || e.event === 'failed').length;
  console.log(
    `supervisor tick lateness: worst ${calmLate.toFixed(1)} ms calm (10 s), ${hammerLate.toFixed(1)} ms with 3 hostile pipelining clients, 8 idle connections and a request loop (20 s, ${served} requests served to the loop)`,
  );
  console.log(
    `  boards suspected or failed while only the socket was busy: ${suspicions}; RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB before, peak ${(rssPeak / 2 ** 20).toFixed(0)} MB`,
  );

  // Soak: faults every 30 s, a polite client polling and a follower.
  const startS = (Date.now() - sim.epochMs) / 1000;
  const runner = new ScenarioRunner(sim, { faults: faults(startS + 10, startS + soakS) });
  runner.start();
  const follower = new ControlClient(path);
  const followCtl = new AbortController();
  void follower.follow(undefined, () => {}, followCtl.signal).catch(() => {});
  const poller = setInterval(
    () => void new ControlClient(path).request({ method: 'view' }).catch(() => {}),
    250,
  );
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const ts: number[] = [];
  const rss: number[] = [];
  const delay: number[] = [];
  let worstDelay = 0;
  let worstLate = 0;
  const soakStart = Date.now();
  while (Date.now() - soakStart < soakS * 1000) {
    await sleep(5000);
    ts.push((Date.now() - soakStart) / 60_000);
    rss.push(process.memoryUsage().rss / 2 ** 20);
    delay.push(eld.mean / 1e6);
    worstDelay = Math.max(worstDelay, eld.max / 1e6);
    worstLate = Math.max(worstLate, sim.supervisor.tickLateness());
    eld.reset();
  }
  eld.disable();
  clearInterval(poller);
  followCtl.abort();
  runner.stop();
  const half = Math.floor(ts.length / 2);
  const restarts = events.filter((e) => e.event === 'restart').length;
  const quarantined = events.filter((e) => e.event === 'quarantined').length;
  console.log(
    `soak ${soakS} s, 8 boards, a fault every 30 s, control socket polled and followed: RSS ${rss[0]!.toFixed(0)} -> ${rss.at(-1)!.toFixed(0)} MB, slope ${slope(ts.slice(half), rss.slice(half)).toFixed(2)} MB/min over the second half`,
  );
  console.log(
    `  event-loop delay: mean ${(delay.reduce((a, b) => a + b, 0) / delay.length).toFixed(1)} ms, slope ${slope(ts, delay).toFixed(2)} ms/min, worst ${worstDelay.toFixed(0)} ms; worst tick lateness ${worstLate.toFixed(1)} ms; ${restarts} restarts, ${quarantined} quarantined`,
  );
  await control.close();
  await sim.stop();
}
