import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BoardVisor } from '../../../firmware/skywire/board-visor.js';
import type {
  ConfiguredVisor,
  VisorHost,
  VisorProcess,
  VisorRole,
} from '../../../firmware/skywire/visor-host.js';
import type { VisorInfo } from '../../../firmware/skywire/visor-info.js';
import { DEFAULT_VISOR_POLICY } from '../../../firmware/skywire/visor-policy.js';

const OWN = `02${'11'.repeat(32)}`;
const HV = `03${'22'.repeat(32)}`;
const HV2 = `02${'33'.repeat(32)}`;

class FakeProcess extends EventEmitter implements VisorProcess {
  static next = 100;
  readonly pid = FakeProcess.next++;
  alive = true;
  signals: string[] = [];
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    this.signals.push(signal);
    this.die(null, signal);
    return true;
  }
  die(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    queueMicrotask(() => this.emit('exit', code, signal));
  }
}

/** A visor host that records what the service asked of it; `answering` is the visor's RPC. */
class FakeHost implements VisorHost {
  config: ConfiguredVisor | null = null;
  configs: { role: VisorRole; pk: string }[] = [];
  processes: FakeProcess[] = [];
  /** How many visors were running at once, at most (a second one would die on its ports). */
  mostAtOnce = 0;
  answering = true;
  bytes = { recv: 0, sent: 0 };
  keys = () => Promise.resolve({ pk: OWN, sk: 'ab'.repeat(32) });
  configured = () => Promise.resolve(this.config);
  configure(role: VisorRole, hypervisorPk: string): Promise<void> {
    this.configs.push({ role, pk: hypervisorPk });
    this.config = { role, hypervisorPk };
    return Promise.resolve();
  }
  spawn(): VisorProcess {
    const p = new FakeProcess();
    this.processes.push(p);
    this.mostAtOnce = Math.max(this.mostAtOnce, this.processes.filter((x) => x.alive).length);
    return p;
  }
  get running(): FakeProcess | undefined {
    return this.processes.filter((p) => p.alive).at(-1);
  }
  info(): Promise<VisorInfo> {
    if (!this.answering || !this.running) return Promise.reject(new Error('RPC connection failed'));
    return Promise.resolve({
      pk: OWN,
      version: 'v1.3.28',
      dmsgConnected: true,
      connectedHypervisors: this.config?.role === 'visor' ? [this.config.hypervisorPk] : null,
      roundTripMs: 3.5,
      servicesHealth: 'connecting',
      uptimeS: 10,
    });
  }
  traffic = () => Promise.resolve({ ...this.bytes });
  /** The visor's reward.txt. */
  reward: string | null = null;
  rewardWrites = 0;
  rewardAddress = () => Promise.resolve(this.reward);
  setRewardAddress(address: string): Promise<void> {
    this.rewardWrites++;
    this.reward = address;
    return Promise.resolve();
  }
}

const policy = { ...DEFAULT_VISOR_POLICY, backoffMs: 1000, maxBackoffMs: 8000 };
let host: FakeHost;

beforeEach(() => {
  vi.useFakeTimers();
  host = new FakeHost();
});
afterEach(() => vi.useRealTimers());

async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe("the board's visor service", () => {
  it("on the manager: makes the hypervisor config with the firmware's key, runs it and makes the account once", async () => {
    const account = vi.fn(() => Promise.resolve());
    const visor = new BoardVisor({ host, role: 'hypervisor', account, policy, probeEveryMs: 1000 });
    await visor.start();
    expect(host.configs).toEqual([{ role: 'hypervisor', pk: OWN }]);
    expect(host.processes).toHaveLength(1);
    await settle(3000);
    expect(account).toHaveBeenCalledTimes(1);
    expect(visor.figures()).toMatchObject({
      status: 'running',
      pk: OWN,
      hypervisor_pk: OWN,
      version: 'v1.3.28',
      dmsg_connected: true,
      hypervisor_connected: null,
      services_health: 'connecting',
      restarts: 0,
      sick: false,
    });
    await visor.stop();
    expect(host.running).toBeUndefined();
  });

  it("writes the reward address the manager sends into the visor's own file, visor running or not, and reports it", async () => {
    const ADDRESS = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
    host.reward = 'SkyminerSimRewardAddr1111111111111';
    const visor = new BoardVisor({ host, role: 'visor', policy });
    await visor.start();
    // No hypervisor key yet, so no visor running: the file is the way in.
    expect(visor.figures()).toMatchObject({ status: 'no-key', reward_address: host.reward });
    await visor.setRewardAddress(ADDRESS);
    expect(host.reward).toBe(ADDRESS);
    expect(visor.figures().reward_address).toBe(ADDRESS);
    expect(host.processes).toHaveLength(0); // read at every request: no restart needed
    await visor.setRewardAddress(ADDRESS);
    expect(host.rewardWrites).toBe(1);
    await visor.stop();
  });

  it('keeps a present hypervisor config instead of writing it again at every start', async () => {
    host.config = { role: 'hypervisor', hypervisorPk: OWN };
    const visor = new BoardVisor({ host, role: 'hypervisor', policy });
    await visor.start();
    expect(host.configs).toEqual([]);
    await visor.stop();
  });

  it("on a worker: waits for the manager's key, then writes a config trusting only that key and starts", async () => {
    const visor = new BoardVisor({ host, role: 'visor', policy });
    await visor.start();
    expect(host.processes).toHaveLength(0);
    expect(visor.figures()).toMatchObject({ status: 'no-key', pk: OWN, hypervisor_pk: null });
    await visor.setHypervisorKey(HV);
    expect(host.configs).toEqual([{ role: 'visor', pk: HV }]);
    expect(host.processes).toHaveLength(1);
    expect(visor.figures()).toMatchObject({ status: 'starting', hypervisor_pk: HV });
    // The same key again changes nothing.
    await visor.setHypervisorKey(HV);
    expect(host.configs).toHaveLength(1);
    await visor.stop();
  });

  it('regenerates the config on a new hypervisor key, stopping the old visor before the new one starts', async () => {
    host.config = { role: 'visor', hypervisorPk: HV };
    const visor = new BoardVisor({ host, role: 'visor', policy });
    await visor.start();
    const first = host.running!;
    await visor.setHypervisorKey(HV2);
    expect(first.alive).toBe(false);
    expect(host.configs).toEqual([{ role: 'visor', pk: HV2 }]);
    expect(host.running).not.toBe(first);
    expect(host.mostAtOnce).toBe(1);
    await visor.stop();
  });

  it('restarts a visor that exits, after the backoff and only once the old process is gone', async () => {
    host.config = { role: 'visor', hypervisorPk: HV };
    const visor = new BoardVisor({ host, role: 'visor', policy, probeEveryMs: 500 });
    await visor.start();
    host.running!.die(1);
    await settle(600);
    expect(host.processes).toHaveLength(1);
    expect(visor.figures()).toMatchObject({ status: 'waiting', last_exit: 'exit code 1' });
    await settle(1000);
    expect(host.processes).toHaveLength(2);
    expect(host.mostAtOnce).toBe(1);
    expect(visor.figures()).toMatchObject({ restarts: 1, sick: false });
    await visor.stop();
  });

  it('kills a visor whose RPC stops answering three times in a row, and starts a fresh one', async () => {
    host.config = { role: 'visor', hypervisorPk: HV };
    const visor = new BoardVisor({ host, role: 'visor', policy, probeEveryMs: 1000 });
    await visor.start();
    await settle(1000);
    expect(visor.figures().status).toBe('running');
    const hung = host.running!;
    host.answering = false;
    await settle(3000);
    expect(hung.signals).toEqual(['SIGTERM']);
    host.answering = true;
    await settle(2000);
    expect(host.processes).toHaveLength(2);
    expect(visor.figures()).toMatchObject({ restarts: 1, last_exit: 'signal SIGTERM' });
    await visor.stop();
  });

  it('reports the board sick only after five restarts in half an hour, and keeps retrying', async () => {
    host.config = { role: 'visor', hypervisorPk: HV };
    const visor = new BoardVisor({ host, role: 'visor', policy, probeEveryMs: 500 });
    await visor.start();
    for (let i = 1; i <= 5; i++) {
      host.running!.die(1);
      await settle(9000);
      expect(visor.figures()).toMatchObject({ restarts: i, sick: i >= 5 });
    }
    expect(host.running).toBeDefined();
    await visor.stop();
  });

  it("reads the board's own traffic from the visor's transport logs: today's bytes and the rate", async () => {
    host.config = { role: 'visor', hypervisorPk: HV };
    const visor = new BoardVisor({ host, role: 'visor', policy, probeEveryMs: 1000 });
    await visor.start();
    host.bytes = { recv: 1000, sent: 100 };
    await settle(1000);
    host.bytes = { recv: 3000, sent: 600 };
    await settle(1000);
    expect(visor.figures()).toMatchObject({
      rx_bytes: 3000,
      tx_bytes: 600,
      rx_bps: 2000,
      tx_bps: 500,
      hypervisor_connected: true,
    });
    await visor.stop();
  });

  it('says why a visor could not be set up, and keeps the board running', async () => {
    host.configure = () => Promise.reject(new Error('/opt/skywire/services-config.json missing'));
    const visor = new BoardVisor({ host, role: 'visor', policy });
    await visor.start();
    await visor.setHypervisorKey(HV);
    expect(visor.figures()).toMatchObject({
      status: 'no-key',
      last_exit: 'setup: /opt/skywire/services-config.json missing',
    });
    expect(host.processes).toHaveLength(0);
    await visor.stop();
  });
});
