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
import {
  hypervisorPasswordControl,
  readHypervisorPassword,
} from '../../firmware/skywire/hypervisor-account.js';
import { EmulatedHypervisor } from '../../firmware/skywire/emulated-hypervisor.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { SkywireHost } from '../../firmware/skywire/visor-host.js';
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
let passwordFile: string;

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
    () => lab.ping(),
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
  passwordFile = join(state, 'hypervisor-password');
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  control = new ControlServer(
    operator,
    firmwareSources({
      view: () => operator.view(),
      rewards: () => service,
      hypervisorUi: 'http://192.168.0.2:8000',
      hypervisorPassword: hypervisorPasswordControl(lab.hypervisorUrl, passwordFile, 25_000),
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

describe('the reward address on the board itself, for a visor the hypervisor cannot reach', () => {
  it("is written to the stopped visor's own reward.txt and is what the real visor reports once it is back", async () => {
    const b2 = lab.board(2);
    const other = skycoinAddressOf(Buffer.alloc(20, 7));
    const host = new SkywireHost({
      binary,
      dir: b2.dir,
      servicesFile: lab.servicesFile,
      wrap: lab.wrapFor(2),
    });
    const client = new HypervisorClient({ url: lab.hypervisorUrl, password: PASSWORD, timeoutMs: 25_000 });
    await lab.stopVisor(2);
    await untilRead(
      'board 2 no longer listed',
      () => client.visorsSummary(),
      (v) => !v.some((x) => x.localIp === b2.ip),
    );
    await host.setRewardAddress(other);
    expect(await host.rewardAddress()).toBe(other);
    lab.startVisor(2, binary);
    const listed = await untilRead(
      'board 2 listed again',
      () => client.visorsSummary(),
      (v) => v.some((x) => x.localIp === b2.ip),
    );
    expect(listed.find((x) => x.localIp === b2.ip)?.rewardAddress).toBe(other);
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

// Last in this file: it changes the lab hypervisor's password, which the tests above log in with.
describe("the hypervisor UI's password on a real hypervisor", () => {
  const login = (url: string, password: string) =>
    fetch(`${url}/api/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password }),
    }).then(async (r) => ({ status: r.status, cookie: (r.headers.getSetCookie()[0] ?? '').split(';')[0]! }));

  it('answers /api/change-password as the emulated hypervisor does, case by case', async () => {
    const emulated = new EmulatedHypervisor({ visors: () => [], password: PASSWORD });
    await emulated.start();
    try {
      const answers = async (url: string): Promise<[number, string][]> => {
        const session = await login(url, PASSWORD);
        expect(session.status).toBe(200);
        const post = (cookie: string, body: string) =>
          fetch(`${url}/api/change-password`, { method: 'POST', headers: { cookie }, body }).then(
            async (r) => [r.status, await r.text()] as [number, string],
          );
        const out: [number, string][] = [];
        const json = (o: unknown) => JSON.stringify(o);
        out.push(await post('', json({ old_password: PASSWORD, new_password: 'Nouveau-pass2' })));
        out.push(await post(session.cookie, 'not json'));
        out.push(await post(session.cookie, json({ old_password: PASSWORD, extra: 1 })));
        out.push(
          await post(session.cookie, json({ old_password: 'Wrong-pass1', new_password: 'Nouveau-pass2' })),
        );
        for (const bad of ['skywire', 'Ab1!', 'x'.repeat(65), 'Ünïcode-1', 'Has space1!'])
          out.push(await post(session.cookie, json({ old_password: PASSWORD, new_password: bad })));
        // A good change, and straight back, each ending every session.
        out.push(await post(session.cookie, json({ old_password: PASSWORD, new_password: 'Nouveau-pass2' })));
        out.push(await post(session.cookie, json({ old_password: 'Nouveau-pass2', new_password: PASSWORD })));
        const again = await login(url, 'Nouveau-pass2');
        out.push([again.status, '']);
        out.push(await post(again.cookie, json({ old_password: 'Nouveau-pass2', new_password: PASSWORD })));
        return out;
      };
      const real = await answers(lab.hypervisorUrl);
      expect(await answers(emulated.url)).toEqual(real);
      expect(real.at(-1)).toEqual([200, 'true\n']);
    } finally {
      await emulated.stop();
    }
  });

  it('shows the password and changes it from the CLI; the rewards client then logs in with the new one', async () => {
    expect(await cli('skywire', 'password')).toMatchObject({
      code: 0,
      stdout: `hypervisor UI user admin, password ${PASSWORD}\n`,
    });
    const weak = await cli('skywire', 'password', 'set', 'skywire');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toBe(
      'skyminer: skywire password: the password needs an upper-case letter, a lower-case letter, a digit and a symbol\n',
    );
    const set = await cli('skywire', 'password', 'set', 'Nouveau-pass2');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(passwordFile, 'utf8')).toBe('Nouveau-pass2\n');
    expect((await login(lab.hypervisorUrl, PASSWORD)).status).toBe(401);
    const rewards = new HypervisorClient({
      url: lab.hypervisorUrl,
      password: () => readHypervisorPassword(passwordFile).then((p) => p ?? ''),
      timeoutMs: 25_000,
    });
    expect(await rewards.visorsSummary()).toHaveLength(3);
    // The hypervisor no longer takes the old one: a change asked with it is refused, the file kept as it is.
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    const refused = await cli('skywire', 'password', 'set', 'Another-pass3');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^skyminer: hypervisor-password failed: the hypervisor does not take the password in .* \(changed in its UI\?\): nothing changed; /,
    );
    expect(await readFile(passwordFile, 'utf8')).toBe(`${PASSWORD}\n`);
  });
});
