import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';
import { MemoryLogger } from '../../../drivers/logger.js';
import { EmulatedWatchdog } from '../../../drivers/watchdog/emulated.js';
import { WDIOF_CARDRESET, type Watchdog } from '../../../drivers/watchdog/watchdog.js';
import { Agent } from '../../../firmware/agent/agent.js';
import {
  defaultChecks,
  freeMemoryCheck,
  healthLimits,
  rootSpaceCheck,
  runChecks,
  type HealthCheck,
} from '../../../firmware/agent/health.js';
import { defaultConfig } from '../../../firmware/config/load.js';
import { openEnvelope, seal } from '../../../firmware/auth/envelope.js';
import {
  decodeAgentMessage,
  encodeMessage,
  type AgentMessage,
  type Heartbeat,
} from '../../../firmware/protocol/messages.js';
import type { BoardUpdater } from '../../../firmware/update/board-updater.js';
import { FakeDatagrams } from '../../lib/fake-datagrams.js';

const key = Buffer.alloc(32, 0x42);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function sentMessages(net: FakeDatagrams): AgentMessage[] {
  return net.sent.map(({ message }) => {
    const opened = openEnvelope(message, (b) => (b === 3 ? key : undefined));
    if (!opened.ok) throw new Error(opened.error);
    const decoded = decodeAgentMessage(opened.body);
    if (!decoded.ok) throw new Error(decoded.error);
    return decoded.message;
  });
}

function agentWith(extra: { healthy?: () => boolean; watchdog?: Watchdog; reboot?: () => void } = {}) {
  const net = new FakeDatagrams();
  const check: HealthCheck = { name: 'test', check: extra.healthy ?? (() => true) };
  const agent = new Agent({
    board: 3,
    manager: { host: '127.0.0.1', port: 7700 },
    intervalMs: 1000,
    key,
    checks: [check],
    datagrams: () => Promise.resolve(net),
    watchdog: extra.watchdog && { device: extra.watchdog, timeoutS: 3, disarmOnStop: true },
    reboot: extra.reboot,
  });
  return { agent, net };
}

describe('agent', () => {
  it('gives its health checks the configured time before counting a slow one as failing', async () => {
    // A board slower than the heartbeat (an emulated one) reads /proc in seconds: half an interval is too short.
    const seen: boolean[] = [];
    for (const checkTimeoutMs of [undefined, 3000]) {
      const net = new FakeDatagrams();
      const slow: HealthCheck = {
        name: 'slow',
        check: () => new Promise((resolve) => setTimeout(() => resolve(true), 2000)),
      };
      const agent = new Agent({
        board: 3,
        manager: { host: '127.0.0.1', port: 7700 },
        intervalMs: 1000,
        ...(checkTimeoutMs !== undefined ? { checkTimeoutMs } : {}),
        key,
        checks: [slow],
        datagrams: () => Promise.resolve(net),
      });
      await agent.start();
      await vi.advanceTimersByTimeAsync(2500);
      const first = sentMessages(net).find((m): m is Heartbeat => m.type === 'heartbeat');
      seen.push(first!.health.ok);
      await agent.stop();
    }
    expect(seen).toEqual([false, true]);
  });

  it('sends a signed heartbeat every interval with identity, boot id, rising sequence and health', async () => {
    const { agent, net } = agentWith();
    await agent.start();
    await vi.advanceTimersByTimeAsync(2000);
    const beats = sentMessages(net) as Heartbeat[];
    expect(beats.map((b) => [b.type, b.board, b.boot_id, b.seq])).toEqual([
      ['heartbeat', 3, agent.bootId, 0],
      ['heartbeat', 3, agent.bootId, 1],
      ['heartbeat', 3, agent.bootId, 2],
    ]);
    expect(beats[2]!.health).toEqual({ ok: true, failing: [] });
    expect(beats[2]!.time_ms).toBe(Date.now());
    expect(net.sent[0]!.to).toEqual({ address: '127.0.0.1', port: 7700 });
    await agent.stop();
  });

  it('pets its watchdog only while its checks pass, so a sick board resets itself', async () => {
    let healthy = true;
    let resets = 0;
    const watchdog = new EmulatedWatchdog(() => resets++);
    const { agent, net } = agentWith({ healthy: () => healthy, watchdog });
    await agent.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(resets).toBe(0);
    healthy = false;
    await vi.advanceTimersByTimeAsync(3500);
    expect(resets).toBe(1);
    const last = sentMessages(net).at(-1) as Heartbeat;
    expect(last.health).toEqual({ ok: false, failing: ['test'] });
    await agent.stop();
  });

  it('reports a watchdog reset from the boot status in every heartbeat of the next boot', async () => {
    const watchdog: Watchdog = {
      open: () => Promise.resolve(),
      pet: () => Promise.resolve(),
      close: () => Promise.resolve(),
      timeLeft: () => Promise.resolve(null),
      bootStatus: () => Promise.resolve(WDIOF_CARDRESET),
    };
    const { agent, net } = agentWith({ watchdog });
    await agent.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect((sentMessages(net) as Heartbeat[]).map((h) => h.reset_reason)).toEqual(['watchdog', 'watchdog']);
    await agent.stop();
  });

  it('answers a signed probe with its nonce, and ignores an unsigned one', async () => {
    const { agent, net } = agentWith();
    await agent.start();
    net.sent.length = 0;
    const probe = encodeMessage({ type: 'probe', board: 3, nonce: '0123456789abcdef' });
    net.deliver(seal(Buffer.alloc(32, 1), 3, probe), { address: '127.0.0.1', port: 7700 });
    expect(net.sent).toHaveLength(0);
    expect(agent.rejected).toBe(1);
    net.deliver(seal(key, 3, probe), { address: '127.0.0.1', port: 7700 });
    expect(sentMessages(net)).toEqual([
      { type: 'probe-answer', board: 3, boot_id: agent.bootId, nonce: '0123456789abcdef' },
    ]);
    await agent.stop();
  });

  it('answers a probe nonce once: a replayed probe gets no answer, a fresh one does', async () => {
    const { agent, net } = agentWith();
    await agent.start();
    net.sent.length = 0;
    const probe = (nonce: string) => seal(key, 3, encodeMessage({ type: 'probe', board: 3, nonce }));
    const from = { address: '127.0.0.1', port: 7700 };
    for (let i = 0; i < 5; i++) net.deliver(probe('0123456789abcdef'), from);
    net.deliver(probe('fedcba9876543210'), from);
    expect(sentMessages(net)).toEqual([
      { type: 'probe-answer', board: 3, boot_id: agent.bootId, nonce: '0123456789abcdef' },
      { type: 'probe-answer', board: 3, boot_id: agent.bootId, nonce: 'fedcba9876543210' },
    ]);
    expect(agent.rejected).toBe(4);
    await agent.stop();
  });

  it('reboots on a signed command for this boot, once; a replay or another boot is refused', async () => {
    let reboots = 0;
    const { agent, net } = agentWith({ reboot: () => reboots++ });
    await agent.start();
    net.sent.length = 0;
    const cmd = (boot_id: string, seq: number) =>
      seal(key, 3, encodeMessage({ type: 'command', board: 3, boot_id, seq, command: 'soft-reboot' }));
    net.deliver(cmd('ffffffffffffffff', 5));
    net.deliver(cmd(agent.bootId, 5));
    net.deliver(cmd(agent.bootId, 5));
    expect(reboots).toBe(1);
    expect(agent.rejected).toBe(2);
    expect(sentMessages(net)).toEqual([{ type: 'command-ack', board: 3, boot_id: agent.bootId, seq: 5 }]);
    await agent.stop();
  });

  it('goes silent when its loop stalls: no heartbeat, no answer, no petting', async () => {
    let resets = 0;
    const watchdog = new EmulatedWatchdog(() => resets++);
    const { agent, net } = agentWith({ watchdog });
    await agent.start();
    await vi.advanceTimersByTimeAsync(1000);
    agent.stall();
    const count = net.sent.length;
    net.deliver(seal(key, 3, encodeMessage({ type: 'probe', board: 3, nonce: '0123456789abcdef' })));
    await vi.advanceTimersByTimeAsync(5000);
    expect(net.sent.length).toBe(count);
    expect(resets).toBe(1);
    await agent.stop();
  });
});

describe('agent during an update install', () => {
  /**
   * An agent whose every check fails (the install's own load) with an install under way: `u.count` is the
   * updater's progress, moved by the test; `moving(n)` moves it once a second for n seconds.
   */
  function agentInstalling() {
    const u = { count: 0 as number | undefined };
    const updater: BoardUpdater = {
      start: async () => {},
      stop: () => {},
      report: () => undefined,
      install: () => {},
      commit: () => {},
      checked: () => {},
      progress: () => u.count,
    };
    const watchdog = new EmulatedWatchdog(() => {});
    const logger = new MemoryLogger();
    const agent = new Agent({
      board: 3,
      manager: { host: '127.0.0.1', port: 7700 },
      intervalMs: 1000,
      key,
      checks: [{ name: 'event-loop', check: () => false }],
      datagrams: () => Promise.resolve(new FakeDatagrams()),
      watchdog: { device: watchdog, timeoutS: 3, disarmOnStop: true },
      updater,
      monotonicMs: () => Date.now(),
      logger,
    });
    const moving = async (seconds: number) => {
      for (let s = 0; s < seconds; s++) {
        u.count! += 1;
        await vi.advanceTimersByTimeAsync(1000);
      }
    };
    return { u, watchdog, logger, agent, moving };
  }

  it('keeps petting while the install gets on though its checks fail, and says so once', async () => {
    const { watchdog, logger, agent, moving } = agentInstalling();
    await agent.start();
    await moving(30);
    expect(watchdog.resets).toBe(0);
    expect(logger.lines).toEqual([
      'warn: board 3: failing event-loop; the watchdog is still petted while the update installs',
    ]);
    await agent.stop();
  });

  it('lets the watchdog reset the board once a failing install stops moving for the watchdog timeout', async () => {
    const { watchdog, logger, agent, moving } = agentInstalling();
    await agent.start();
    await moving(10);
    // Stalled: petted for the grace (3 s) after its last move, then the watchdog's own 3 s.
    await vi.advanceTimersByTimeAsync(5500);
    expect(watchdog.resets).toBe(0);
    await vi.advanceTimersByTimeAsync(1500);
    expect(watchdog.resets).toBe(1);
    expect(logger.lines.at(-1)).toBe('warn: board 3: failing event-loop; the watchdog is no longer petted');
    await agent.stop();
  });

  it('pets no longer once the install is over, however recently it moved', async () => {
    const { u, watchdog, agent } = agentInstalling();
    await agent.start();
    u.count = 5;
    await vi.advanceTimersByTimeAsync(2000);
    u.count = undefined;
    await vi.advanceTimersByTimeAsync(4500);
    expect(watchdog.resets).toBe(1);
    await agent.stop();
  });
});

describe('health checks', () => {
  it('fails the memory check below the limit, from /proc/meminfo', async () => {
    const root = new MemoryRoot().set(
      'proc/meminfo',
      'MemTotal: 1000000 kB\nMemFree: 10000 kB\nMemAvailable: 20000 kB\n',
    );
    expect(await freeMemoryCheck(root, 16 * 1024 * 1024).check()).toBe(true);
    expect(await freeMemoryCheck(root, 32 * 1024 * 1024).check()).toBe(false);
  });

  it('keeps a healthy board petting with the default config whatever Skywire runs: the visor gates no check', async () => {
    // The real visor's process is `skywire`; a check looking for any Skywire process would reset every board
    // whose visor is restarting or not yet installed.
    const root = new MemoryRoot()
      .set('proc/1/comm', 'init\n')
      .set('proc/77/comm', 'skywire\n')
      .set('proc/meminfo', 'MemTotal: 1000000 kB\nMemFree: 500000 kB\nMemAvailable: 600000 kB\n');
    const stat = () => Promise.resolve({ bavail: 500, blocks: 1000, bsize: 4096 });
    const checks = defaultChecks(root, healthLimits(defaultConfig().agent), stat);
    try {
      expect(checks.map((c) => c.name)).toEqual(['event-loop', 'memory', 'root-fs']);
      root.delete('proc/77');
      const result = runChecks(checks, 500);
      await vi.advanceTimersByTimeAsync(0);
      expect(await result).toEqual({ ok: true, failing: [] });
    } finally {
      for (const c of checks) c.close?.();
    }
  });

  it('fails the root filesystem check below the free share', async () => {
    const stat = (free: number) => () => Promise.resolve({ bavail: free, blocks: 1000, bsize: 4096 });
    expect(await rootSpaceCheck(5, '/', stat(60)).check()).toBe(true);
    expect(await rootSpaceCheck(5, '/', stat(40)).check()).toBe(false);
  });

  it('counts a check that throws or hangs as failing, and names it', async () => {
    const checks: HealthCheck[] = [
      { name: 'fine', check: () => true },
      { name: 'throws', check: () => Promise.reject(new Error('EIO')) },
      { name: 'hangs', check: () => new Promise<boolean>(() => {}) },
    ];
    const result = runChecks(checks, 500);
    await vi.advanceTimersByTimeAsync(500);
    expect(await result).toEqual({ ok: false, failing: ['throws', 'hangs'] });
  });
});
