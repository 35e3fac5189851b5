// The owner's operations against a real Skywire v1.3.28 offline in network namespaces: the reward address chosen
// with the CLI (through the supervisor's control socket and the rewards service) reaches every visor, `skywire`
// shows the real visors, and a visor bundle swaps a real visor's binary or falls back from a broken one. The bundle
// holds the same v1.3.28 binary labelled v1.3.29: no newer Skywire source is on this machine, and the swap, the
// restart and the fallback do not depend on what the binary is.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeVisorBundle } from '../../images/bundle/visor.js';
import { firmwareSources } from '../../firmware/control/firmware-sources.js';
import { ControlServer } from '../../firmware/control/server.js';
import { RewardAddressStore } from '../../firmware/rewards/reward-address.js';
import { RewardsService } from '../../firmware/rewards/service.js';
import { compareVersions } from '../../firmware/rewards/version.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { skycoinAddressOf } from '../../firmware/skywire/skycoin-address.js';
import type { SupervisorOperator } from '../../firmware/supervisor/operator.js';
import { keyId } from '../../firmware/update/keys.js';
import { updateVisor } from '../../firmware/update/visor-install.js';
import { readSlots, visorBinary } from '../../firmware/update/visor-slots.js';
import { runSkyminer } from '../helpers/skyminer.js';
import { hostSkywire, SkywireLab } from './lab.js';
import { untilRead } from '../helpers/wait.js';

const PASSWORD = 'Skyminer-lab2';
const ADDRESS = skycoinAddressOf(Buffer.alloc(20, 9));
let lab: SkywireLab;
let binary: string;
let service: RewardsService;
let control: ControlServer;
let socket: string;

const operator: SupervisorOperator = {
  view: () => ({
    at: 0,
    boards: [1, 2, 3].map((board) => ({
      board,
      role: board === 1 ? 'manager' : 'worker',
      status: 'up',
      forS: 1,
    })),
  }),
  operate: () => Promise.resolve({ ok: false, message: 'not in this test' }),
  recentEvents: () => [],
  onEvent: () => () => undefined,
} as unknown as SupervisorOperator;

beforeAll(async () => {
  binary = await hostSkywire();
  lab = await SkywireLab.start({ binary, boards: 3 });
  const client = new HypervisorClient({ url: lab.hypervisorUrl, password: PASSWORD, timeoutMs: 25_000 });
  await untilRead(
    'the hypervisor',
    () => fetch(`${lab.hypervisorUrl}/api/ping`).then((r) => r.text()),
    (t) => t === '"PONG!"',
  );
  await client.createAccount(PASSWORD);
  await untilRead(
    'three visors',
    () => client.visorsSummary(),
    (v) => v.length === 3,
  );
  const state = await mkdtemp(join(tmpdir(), 'owner-state-'));
  service = new RewardsService({
    boards: 3,
    boardAddress: (n) => `192.168.0.${n + 1}`,
    hypervisor: client,
    skycoin: { balance: () => Promise.reject(new Error('no node in the lab')) },
    addressStore: new RewardAddressStore(join(state, 'reward-address.json')),
    minVersion: 'v1.3.50',
    minVersionFromMs: Date.UTC(2026, 4, 22),
    thresholdPct: 75,
    pool: { poolSkyPerYear: 1, networkShares: 1000, maxSharesPerIp: 8 },
    summaryPollMs: 60_000,
    balancePollMs: 60_000,
    staleAfterMs: 120_000,
  });
  await service.load();
  await service.pollSummary();
  socket = join(state, 'control.sock');
  control = new ControlServer(
    operator,
    firmwareSources({
      view: () => operator.view(),
      rewards: () => service,
      hypervisorUi: 'http://192.168.0.2:8000',
    }),
    { path: socket, group: null },
  );
  await control.listen();
}, 900_000);

afterAll(async () => {
  await control?.close();
  await lab?.stop();
});

const cli = (...args: string[]) => runSkyminer(['--control', socket, ...args], 150_000);

describe("the owner's commands against real visors", () => {
  it('sets the reward address from the CLI on every visor, read back from each', async () => {
    const r = await cli('rewards', 'address', ADDRESS, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      boards: { reward_address: string; reward_address_status: string }[];
    };
    expect(json.boards.map((b) => [b.reward_address, b.reward_address_status])).toEqual(
      Array(3).fill([ADDRESS, 'set']),
    );
    for (const b of lab.boards)
      expect(await readFile(join(b.dir, 'local', 'reward.txt'), 'utf8')).toBe(ADDRESS);
  });

  it('shows every real visor with its version, key, dmsg, services health and uptime; the floor marks them', async () => {
    await service.pollSummary();
    const r = await cli('skywire', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { hypervisor_ui: string; visors: Record<string, unknown>[] };
    expect(json.hypervisor_ui).toBe('http://192.168.0.2:8000');
    expect(json.visors).toEqual(
      lab.boards.map((b) => ({
        board: b.board,
        local_ip: b.ip,
        running: true,
        pk: b.keys.pk,
        version: 'v1.3.28',
        dmsg_connected: true,
        dmsg_rtt_ms: expect.any(Number) as unknown,
        services_health: expect.stringMatching(/^(connecting|healthy)$/) as unknown,
        uptime_s: expect.any(Number) as unknown,
        reward_address: ADDRESS,
      })),
    );
    const rewards = await cli('rewards');
    // v1.3.28 is below the network's floor: on the floor's day or later it earns nothing.
    const past = Date.now() >= Date.UTC(2026, 4, 22);
    expect(rewards.stdout).toContain(
      past ? 'below it: boards 1, 2, 3 (not earning)' : 'below it: boards 1, 2, 3 (must update by then)',
    );
  });
});

describe('a visor bundle on a real visor', () => {
  const signer = generateKeyPairSync('ed25519');
  const policy = () => ({
    keys: new Map([[keyId(signer.publicKey), signer.publicKey]]),
    arch: 'amd64' as const,
    runningVersion: 'v1.3.28',
    compare: compareVersions,
  });

  it('swaps board 3 to the bundled binary, and falls back from a broken one with the reason', async () => {
    const work = await mkdtemp(join(tmpdir(), 'visor-bundle-'));
    const slots = join(work, 'slots');
    const b3 = lab.board(3);
    const client = new HypervisorClient({ url: lab.hypervisorUrl, password: PASSWORD, timeoutMs: 25_000 });
    const restart = async () => {
      await lab.stopVisor(3);
      lab.startVisor(3, await visorBinary(slots, binary));
    };
    // Up: the visor's RPC answers in its namespace and the hypervisor lists it again.
    const probe = async () => {
      const rpc = await lab.waitTcp(b3.ns, '127.0.0.1', 3435, 'visor RPC', 0).then(
        () => true,
        () => false,
      );
      if (!rpc) return { ok: false as const, problem: 'RPC not answering' };
      const listed = (await client.visorsSummary()).some((v) => v.localIp === b3.ip);
      return listed ? { ok: true as const } : { ok: false as const, problem: 'not listed by the hypervisor' };
    };
    const good = join(work, 'v1.3.29.visor');
    await makeVisorBundle({ binary, version: 'v1.3.29', arch: 'amd64' }, signer.privateKey, good, 1);
    const kept = await updateVisor({
      bundle: good,
      dir: slots,
      policy: policy(),
      restart,
      probe,
      swap: { limitMs: 120_000, steadyMs: 5_000 },
      probeEveryMs: 1000,
    });
    expect(kept).toEqual({ outcome: 'kept', version: 'v1.3.29' });
    const pid = b3.visor!.pid!;
    expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).toContain(join(slots, 'current', 'skywire'));

    const brokenBin = join(work, 'broken');
    await writeFile(brokenBin, '#!/bin/sh\necho "not a visor" >&2\nexit 3\n', { mode: 0o755 });
    const broken = join(work, 'v1.3.30.visor');
    await makeVisorBundle(
      { binary: brokenBin, version: 'v1.3.30', arch: 'amd64' },
      signer.privateKey,
      broken,
      1,
    );
    const before = await readSlots(slots);
    const fell = await updateVisor({
      bundle: broken,
      dir: slots,
      policy: policy(),
      restart,
      probe,
      swap: { limitMs: 15_000, steadyMs: 5_000 },
      probeEveryMs: 1000,
    });
    expect(fell).toEqual({
      outcome: 'fell-back',
      version: 'v1.3.30',
      reason: 'the new visor did not come up within 15 s; last: RPC not answering',
    });
    expect(await readSlots(slots)).toEqual({ current: before.current, previous: null });
    await untilRead(
      'board 3 listed again on the previous binary',
      () => client.visorsSummary(),
      (v) => v.some((x) => x.localIp === b3.ip),
    );
  });
});
