// The firmware's Skywire side against a real Skywire v1.3.28 (built from the pinned source for this host), offline
// inside network namespaces: a hypervisor on board 1 and visors on boards 2 and 3, each with a config the firmware
// made with Skywire's own `config gen`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardsService } from '../../firmware/rewards/service.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { skycoinAddressOf } from '../../firmware/skywire/skycoin-address.js';
import { SourceError } from '../../firmware/skywire/source-error.js';
import type { VisorFigures } from '../../firmware/skywire/visor-summary.js';
import { DEFAULT_VISOR_POLICY } from '../../firmware/skywire/visor-policy.js';
import { VisorService } from '../../firmware/skywire/visor-service.js';
import { hostSkywire, SkywireLab } from './lab.js';
import { untilRead } from '../helpers/wait.js';

const PASSWORD = 'Skyminer-lab1';
const ADDRESS = skycoinAddressOf(Buffer.alloc(20, 7));
let lab: SkywireLab;
let client: HypervisorClient;

const byIp = (visors: VisorFigures[]) => visors.map((v) => v.localIp).sort();

beforeAll(async () => {
  const binary = await hostSkywire();
  lab = await SkywireLab.start({ binary, boards: 3 });
  client = new HypervisorClient({ url: lab.hypervisorUrl, password: PASSWORD, timeoutMs: 25_000 });
  await untilRead(
    'the hypervisor to answer',
    () => lab.ping(),
    (t) => t === '"PONG!"',
  );
}, 900_000);

afterAll(async () => {
  await lab?.stop();
});

describe('a real Skywire hypervisor', () => {
  it("has no account when fresh: refuses the old default password by its rules, then takes the firmware's", async () => {
    await expect(client.visorsSummary()).rejects.toThrow('refused: incorrect username or password');
    const weak = new HypervisorClient({ url: lab.hypervisorUrl, password: 'skywire' });
    const refused = await weak.createAccount('skywire').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SourceError);
    expect((refused as SourceError).message).toContain(
      'HTTP 400: password must have at least one upper, lower, digit and special character',
    );
    expect(await client.createAccount(PASSWORD)).toBe('created');
    expect(await client.createAccount(PASSWORD)).toBe('exists');
  });

  it('lists the hypervisor and every remote visor online, with version, uptime and address', async () => {
    const visors = await untilRead(
      'three visors',
      () => client.visorsSummary(),
      (v) => v.length === 3,
    );
    expect(byIp(visors)).toEqual(['192.168.0.2', '192.168.0.3', '192.168.0.4']);
    for (const v of visors) {
      expect(v).toMatchObject({ online: true, version: 'v1.3.28', dmsgConnected: true });
      expect(v.uptimeS).toBeGreaterThan(0);
      expect(v.pk).toBe(lab.boards.find((b) => b.ip === v.localIp)!.keys.pk);
    }
    // The per-visor summary says offline for a connected remote visor: online state is never read from it.
    expect((await client.visorSummary(lab.board(2).keys.pk)).online).toBe(false);
  });

  it('says connecting for the services health of a visor that started minutes ago or less', async () => {
    expect(await client.servicesHealth(lab.board(2).keys.pk)).toBe('connecting');
  });

  it('sets the reward address on every visor through the hypervisor, and the visors keep it', async () => {
    for (const b of lab.boards) await client.setRewardAddress(b.keys.pk, ADDRESS);
    const visors = await client.visorsSummary();
    expect(visors.map((v) => v.rewardAddress)).toEqual([ADDRESS, ADDRESS, ADDRESS]);
    for (const b of lab.boards)
      expect(await readFile(join(b.dir, 'local', 'reward.txt'), 'utf8')).toBe(ADDRESS);
    await expect(client.setRewardAddress(lab.board(2).keys.pk, 'not-an-address')).rejects.toThrow(
      'HTTP 500: Invalid base58 character',
    );
  });

  it('feeds the rewards service: every board online with its version and reward address', async () => {
    const service = new RewardsService({
      boards: 3,
      boardAddress: (n) => `192.168.0.${n + 1}`,
      hypervisor: client,
      skycoin: { balance: () => Promise.reject(new Error('no node in the lab')) },
      minVersion: 'v1.3.26',
      thresholdPct: 75,
      pool: { poolSkyPerYear: 1, networkShares: 1000, maxSharesPerIp: 8 },
      summaryPollMs: 60_000,
      balancePollMs: 60_000,
      staleAfterMs: 120_000,
    });
    await service.pollSummary();
    const boards = service.view().boards;
    expect(boards.map((b) => [b.board, b.online, b.version, b.rewardAddress])).toEqual([
      [1, true, 'v1.3.28', ADDRESS],
      [2, true, 'v1.3.28', ADDRESS],
      [3, true, 'v1.3.28', ADDRESS],
    ]);
  });

  it('removes a remote visor that stops from the list, and lists it again when it is back', async () => {
    await lab.stopVisor(3);
    const two = await untilRead(
      'board 3 gone',
      () => client.visorsSummary(),
      (v) => v.length === 2,
    );
    expect(byIp(two)).toEqual(['192.168.0.2', '192.168.0.3']);
    lab.startVisor(3);
    await untilRead(
      'board 3 back',
      () => client.visorsSummary(),
      (v) => v.length === 3,
    );
  });

  it('is logged into again after it restarts, the stale kept-alive socket retried once', async () => {
    await client.visorsSummary();
    const logins = client.logins;
    await lab.stopVisor(1);
    lab.startVisor(1);
    await untilRead(
      'the hypervisor back',
      () => lab.ping(),
      (t) => t === '"PONG!"',
    );
    const visors = await client.visorsSummary();
    expect(visors.length).toBeGreaterThanOrEqual(1);
    expect(client.logins).toBe(logins + 1);
  });
});

describe('the visor service with a real visor', () => {
  it('brings a killed visor back, after its old process has gone, without touching the board', async () => {
    await lab.stopVisor(3);
    const b3 = lab.board(3);
    const service = new VisorService({
      spawn: () => lab.startVisor(3),
      // The visor's RPC port inside board 3's namespace.
      probe: () =>
        lab.waitTcp(b3.ns, '127.0.0.1', 3435, 'visor RPC', 0).then(
          () => true,
          () => false,
        ),
      policy: { ...DEFAULT_VISOR_POLICY, backoffMs: 1_000 },
      probeEveryMs: 500,
    });
    service.start();
    try {
      await untilRead(
        'board 3 listed',
        () => client.visorsSummary(),
        (v) => v.some((x) => x.localIp === b3.ip),
      );
      await untilRead(
        'the service to see it running',
        async () => service.report(),
        (r) => r.status === 'running',
      );
      const pid = service.report().pid!;
      process.kill(pid, 'SIGKILL');
      await untilRead(
        'a restart',
        async () => service.report(),
        (r) => r.restarts === 1 && r.status === 'running',
      );
      expect(service.report()).toMatchObject({ lastExit: 'signal SIGKILL', sick: false });
      expect(service.report().pid).not.toBe(pid);
      await untilRead(
        'board 3 listed again',
        () => client.visorsSummary(),
        (v) => v.some((x) => x.localIp === b3.ip),
      );
    } finally {
      await service.stop();
    }
    expect(service.report().status).toBe('stopped');
    lab.startVisor(3);
  });
});

/** A JSON value's shape: types, object keys and null-ness, arrays by their first element. */
function shapeOf(v: unknown): unknown {
  if (v === null) return null;
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0])] : [];
  if (typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, shapeOf((v as Record<string, unknown>)[k])]),
    );
  return typeof v;
}

interface Exchange {
  status: number;
  type: string;
  body: string;
}

/** The answers the firmware and the simulator depend on, asked of one hypervisor (real or emulated). */
async function askAll(
  url: string,
  password: string,
  remotePk: string,
): Promise<Record<string, Exchange | unknown>> {
  const ask = async (path: string, init: RequestInit = {}): Promise<Exchange> => {
    const res = await fetch(url + path, init);
    return {
      status: res.status,
      type: (res.headers.get('content-type') ?? '').split(';')[0]!,
      body: await res.text(),
    };
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    ask(path, { method: 'POST', body: JSON.stringify(body), headers });
  const login = await fetch(`${url}/api/login`, {
    method: 'POST',
    body: JSON.stringify({ username: 'admin', password }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const auth = { cookie };
  const csrf = (JSON.parse((await ask('/api/csrf')).body) as { csrf_token: string }).csrf_token;
  const unknownPk = `02${'ab'.repeat(32)}`;
  const summaries = JSON.parse((await ask('/api/visors-summary', { headers: auth })).body) as Record<
    string,
    unknown
  >[];
  const own = summaries.find((s) => s.is_hypervisor === true);
  const remote = summaries.find((s) => s.is_hypervisor !== true);
  return {
    ping: await ask('/api/ping'),
    noSession: await ask('/api/visors-summary'),
    unknownRoute: await ask('/api/nothing', { headers: auth }),
    badPk: await ask('/api/visors/xyz/summary', { headers: auth }),
    unknownPk: await ask(`/api/visors/${unknownPk}/summary`, { headers: auth }),
    wrongPassword: await post('/api/login', { username: 'admin', password: 'Wrong-pass1' }),
    shortUser: await post('/api/login', { username: 'bob', password: 'Wrong-pass1' }),
    otherUser: await post('/api/login', { username: 'bobby', password: 'Wrong-pass1' }),
    alreadyIn: await post('/api/login', { username: 'admin', password }, auth),
    secondAccount: await post('/api/create-account', { username: 'admin', password: 'Another-pass1' }),
    rewardNoCsrf: await ask(`/api/visors/${remotePk}/reward`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ reward_address: ADDRESS }),
    }),
    rewardBad: await ask(`/api/visors/${remotePk}/reward`, {
      method: 'PUT',
      headers: { ...auth, 'x-csrf-token': csrf },
      body: JSON.stringify({ reward_address: 'l0l' }),
    }),
    health: shapeOf(JSON.parse((await ask(`/api/visors/${remotePk}/health`, { headers: auth })).body)),
    ownSummary: shapeOf(own),
    remoteListed: shapeOf(remote),
    remoteOnline: remote?.online,
    remoteOwnSummary: shapeOf(
      JSON.parse((await ask(`/api/visors/${remotePk}/summary`, { headers: auth })).body),
    ),
    remoteOwnOnline: (
      JSON.parse((await ask(`/api/visors/${remotePk}/summary`, { headers: auth })).body) as {
        online: boolean;
      }
    ).online,
  };
}

describe('the emulated hypervisor', () => {
  it('answers exactly as the real one: statuses, error texts, content types, shapes and nulls', async () => {
    const { EmulatedHypervisor } = await import('../../firmware/skywire/emulated-hypervisor.js');
    const { EmulatedVisor } = await import('../../firmware/skywire/emulated-visor.js');
    const visors = lab.boards.map(
      (b) =>
        new EmulatedVisor({
          pk: b.keys.pk,
          localIp: b.ip,
          isHypervisor: b.board === 1,
          transports: 0,
          rewardAddress: ADDRESS,
        }),
    );
    for (const v of visors) v.start(Date.now() - 10_000);
    const emulated = new EmulatedHypervisor({ visors: () => visors, password: PASSWORD });
    await emulated.start();
    try {
      await untilRead(
        'three visors',
        () => client.visorsSummary(),
        (v) => v.length === 3,
      );
      const remotePk = lab.board(2).keys.pk;
      const real = await askAll(lab.hypervisorUrl, PASSWORD, remotePk);
      const ours = await askAll(emulated.url, PASSWORD, remotePk);
      expect(ours).toEqual(real);
    } finally {
      await emulated.stop();
    }
  });
});
