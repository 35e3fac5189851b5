// Cost per heartbeat of a board's whole software (agent, health checks, telemetry sampler, disk service, inventory)
// built by the one board composition: on this machine's real /proc and /sys (the device agent) beside an emulated
// board (the simulator's); and the supervisor's cost per heartbeat received, figures parsed.
import { mkdir } from 'node:fs/promises';
import { spawnRunner } from '../../drivers/disks/command-runner.js';
import { realStatfs } from '../../drivers/disks/usage.js';
import { DirectoryRoot } from '../../drivers/fileroot/file-root.js';
import { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { seal } from '../../firmware/auth/envelope.js';
import { BoxKeys, deriveBoardKey } from '../../firmware/auth/keys.js';
import { composeBoard, type BoardHardware } from '../../firmware/compose/board.js';
import { defaultConfig } from '../../firmware/config/load.js';
import { encodeMessage } from '../../firmware/protocol/messages.js';
import { SimBoardHardware } from '../../firmware/sim/board-hardware.js';
import { DEFAULT_POLICY } from '../../firmware/supervisor/board-state.js';
import { Supervisor } from '../../firmware/supervisor/supervisor.js';
import { heartbeatFigures } from '../../firmware/telemetry/heartbeat-figures.js';
import { systemInformation } from '../../firmware/telemetry/inventory.js';
import { FakeDatagrams } from '../lib/fake-datagrams.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const INTERVAL_MS = 200;
const config = defaultConfig({
  supervisor: { heartbeat_interval_ms: INTERVAL_MS, heartbeat_timeout_ms: 1000 },
  agent: { watchdog: '', cache_disk: false },
});

/** Runs a board's software for `ms` after a settling second; CPU and heap growth per heartbeat sent. */
async function perHeartbeat(hardware: Omit<BoardHardware, 'network' | 'reboot'>, ms: number) {
  const net = new FakeDatagrams();
  const software = composeBoard({
    config,
    board: 2,
    key: deriveBoardKey(Buffer.alloc(32, 1), 2),
    logger: silent,
    hardware: {
      ...hardware,
      network: { manager: { host: '127.0.0.1', port: 9 }, datagrams: () => Promise.resolve(net) },
      reboot: () => {},
    },
  });
  await software.start();
  // The inventory and the first samples are start-up costs, not per-heartbeat ones.
  await new Promise((r) => setTimeout(r, 3000));
  const sentBefore = net.sent.length;
  const cpu = process.cpuUsage();
  const bytes = net.sent.slice(-1)[0]?.message.length ?? 0;
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(cpu);
  const beats = net.sent.length - sentBefore;
  await software.stop();
  return { cpuUs: (used.user + used.system) / Math.max(1, beats), beats, bytes };
}

async function supervisorPerHeartbeat(n: number) {
  const secret = Buffer.alloc(32, 2);
  const net = new FakeDatagrams();
  const chip = new EmulatedGpioChip();
  const sup = new Supervisor({
    boards: 8,
    lines: new Map([[2, { power: chip.request({ chip: chip.label, offset: 2 }) }]]),
    listen: { host: '127.0.0.1', port: 0 },
    policy: DEFAULT_POLICY,
    powerOnGapMs: 0,
    keyFor: new BoxKeys(secret, 8).keyFor,
    datagrams: () => Promise.resolve(net),
  });
  await sup.start();
  const key = deriveBoardKey(secret, 3);
  const figures = heartbeatFigures(undefined, [], null);
  const cpu = process.cpuUsage();
  for (let seq = 0; seq < n; seq++) {
    const hb = {
      type: 'heartbeat' as const,
      board: 3,
      boot_id: 'aaaaaaaaaaaaaaaa',
      seq,
      time_ms: Date.now(),
      uptime_s: seq,
      health: { ok: true, failing: [] },
      telemetry: figures,
    };
    net.deliver(seal(key, 3, encodeMessage(hb)));
  }
  const used = process.cpuUsage(cpu);
  await sup.stop();
  return (used.user + used.system) / n;
}

export default async function bench(): Promise<void> {
  const device = await perHeartbeat(
    {
      root: new DirectoryRoot('/'),
      run: spawnRunner,
      statfs: realStatfs,
      ensureDir: (p) => mkdir(p, { recursive: true }).then(() => undefined),
      inventory: systemInformation,
    },
    5000,
  );
  const sim = await SimBoardHardware.create(2);
  const emulated = await perHeartbeat(
    {
      root: sim.kernel(2).root,
      run: sim.runner(2),
      statfs: sim.statfs(2),
      ensureDir: () => Promise.resolve(),
      inventory: sim.inventory(2),
    },
    5000,
  );
  await sim.dispose();
  const supervisor = await supervisorPerHeartbeat(5000);
  const row = (what: string, r: { cpuUs: number; beats: number; bytes: number }) =>
    console.log(
      `${what}: ${r.cpuUs.toFixed(0)} us CPU per heartbeat (${r.beats} beats, ${r.bytes} bytes each), telemetry, checks and disks included`,
    );
  row('device agent (this machine, real /proc)', device);
  row('simulator agent (emulated board)       ', emulated);
  console.log(
    `supervisor: ${supervisor.toFixed(0)} us CPU per heartbeat received (authenticated, figures parsed)`,
  );
}
