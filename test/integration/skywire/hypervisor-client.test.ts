import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedHypervisor } from '../../../firmware/skywire/emulated-hypervisor.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { HypervisorClient } from '../../../firmware/skywire/hypervisor-client.js';
import { SourceError } from '../../../firmware/skywire/source-error.js';
import { transportRates } from '../../../firmware/skywire/bandwidth.js';

let now = 1_000_000;
let hv: EmulatedHypervisor | undefined;
const visors = [1, 2, 3].map(
  (n) => new EmulatedVisor({ pk: emulatedPk(`b${n}`), localIp: `192.168.0.${n + 1}`, isHypervisor: n === 1 }),
);

async function start(): Promise<EmulatedHypervisor> {
  now = 1_000_000;
  for (const v of visors) v.start(now);
  hv = new EmulatedHypervisor({ visors: () => visors, now: () => now, password: 'pw' });
  await hv.start();
  return hv;
}

afterEach(async () => {
  await hv?.stop();
  hv = undefined;
});

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('hypervisor client against the emulated hypervisor', () => {
  it('fetches a CSRF token, logs in once and reads every visor', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    const first = await client.visorsSummary();
    await client.visorsSummary();
    expect(first.map((v) => v.localIp)).toEqual(['192.168.0.2', '192.168.0.3', '192.168.0.4']);
    expect(client.logins).toBe(1);
    expect(h.requests).toEqual([
      'GET /api/csrf 200',
      'POST /api/login 200',
      'GET /api/visors-summary 200',
      'GET /api/visors-summary 200',
    ]);
  });

  it('takes the credentials from the URL', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url.replace('http://', 'http://admin:pw@') });
    expect(client.baseUrl).toBe(h.url);
    expect(await client.visorSummary(visors[1]!.pk)).toMatchObject({ pk: visors[1]!.pk, online: true });
  });

  it('logs in again exactly once when the session expires mid-session', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    await client.visorsSummary();
    h.expireSessions();
    await client.visorsSummary();
    expect(client.logins).toBe(2);
    expect(h.logins).toBe(2);
    expect(h.requests.slice(3)).toEqual([
      'GET /api/visors-summary 401',
      'GET /api/csrf 200',
      'POST /api/login 200',
      'GET /api/visors-summary 200',
    ]);
  });

  it('refuses wrong credentials with one clear error and does not retry in a loop', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'wrong' });
    const err = await failure(client.visorsSummary());
    expect(err.kind).toBe('credentials');
    expect(err.message).toBe(`hypervisor ${h.url}: login as "admin" refused: incorrect username or password`);
    expect(h.logins).toBe(1);
  });

  it('is refused by the hypervisor without the CSRF token', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/api/login`, {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password: 'pw' }),
    });
    expect(res.status).toBe(403);
  });

  it('reads bandwidth from counters and gives no rate across a visor restart', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    const pk = visors[2]!.pk;
    const read = async () => {
      const f = await client.visorSummary(pk);
      return { atMs: now, uptimeS: f.uptimeS, transports: f.transports };
    };
    const a = await read();
    now += 10_000;
    visors[2]!.carry(125_000, 25_000);
    const b = await read();
    expect(transportRates(a, b)).toEqual({ rxBps: 100_000, txBps: 20_000 });
    visors[2]!.stop(now);
    now += 5_000;
    visors[2]!.start(now);
    now += 1_000;
    visors[2]!.carry(1000, 1000);
    const c = await read();
    expect(c.uptimeS).toBe(1);
    expect(transportRates(b, c)).toBeNull();
    expect(h.requests.filter((r) => r.includes('/summary')).every((r) => r.endsWith(' 200'))).toBe(true);
  });

  it('says the server is unreachable when nothing listens', async () => {
    const h = await start();
    const url = h.url;
    await h.stop();
    hv = undefined;
    const err = await failure(new HypervisorClient({ url, password: 'pw' }).visorsSummary());
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`cannot reach ${url}/api/csrf: ECONNREFUSED`);
  });

  it('gives up on a hypervisor that does not answer in time', async () => {
    const h = await start();
    h.fault = 'hang';
    const err = await failure(
      new HypervisorClient({ url: h.url, password: 'pw', timeoutMs: 200 }).visorsSummary(),
    );
    expect(err.kind).toBe('timeout');
  });

  it('names a malformed or unexpected answer in one line', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    await client.visorsSummary();
    h.fault = 'malformed';
    const notJson = await failure(client.visorsSummary());
    expect(notJson.kind).toBe('malformed');
    expect(notJson.message).toBe(
      'hypervisor /api/visors-summary: answer is not JSON ("<html>502 Bad Gateway</html>")',
    );
    h.fault = 'wrong-shape';
    expect((await failure(client.visorsSummary())).message).toMatch(/^visors summary: \(top level\): /);
    h.fault = 'server-error';
    expect((await failure(client.visorsSummary())).message).toBe(
      `hypervisor ${h.url}/api/visors-summary: HTTP 500: internal error`,
    );
    h.fault = 'none';
    expect(await client.visorsSummary()).toHaveLength(3);
    expect(client.logins).toBe(1);
  });
});
