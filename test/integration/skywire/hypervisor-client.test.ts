import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedHypervisor } from '../../../firmware/skywire/emulated-hypervisor.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { HypervisorClient } from '../../../firmware/skywire/hypervisor-client.js';
import { skycoinAddressOf } from '../../../firmware/skywire/skycoin-address.js';
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
  it('logs in once without a CSRF token, as the real hypervisor takes it, and reads every visor', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    const first = await client.visorsSummary();
    await client.visorsSummary();
    expect(first.map((v) => v.localIp)).toEqual(['192.168.0.2', '192.168.0.3', '192.168.0.4']);
    expect(client.logins).toBe(1);
    expect(h.requests).toEqual([
      'POST /api/login 200',
      'GET /api/visors-summary 200',
      'GET /api/visors-summary 200',
    ]);
  });

  it('takes the credentials from the URL', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url.replace('http://', 'http://admin:pw@') });
    expect(client.baseUrl).toBe(h.url);
    // A remote visor's own summary says offline even while connected, as the real hypervisor's does.
    expect(await client.visorSummary(visors[1]!.pk)).toMatchObject({ pk: visors[1]!.pk, online: false });
  });

  it('logs in again exactly once when the session expires mid-session', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    await client.visorsSummary();
    h.expireSessions();
    await client.visorsSummary();
    expect(client.logins).toBe(2);
    expect(h.logins).toBe(2);
    expect(h.requests.slice(2)).toEqual([
      'GET /api/visors-summary 401',
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

  it('sets a reward address with a fresh CSRF token, and passes on the reason for a bad one', async () => {
    const h = await start();
    const client = new HypervisorClient({ url: h.url, password: 'pw' });
    const address = skycoinAddressOf(Buffer.alloc(20, 1));
    await client.setRewardAddress(visors[2]!.pk, address);
    expect(visors[2]!.rewardAddress).toBe(address);
    expect(h.requests).toEqual([
      'POST /api/login 200',
      'GET /api/csrf 200',
      `PUT /api/visors/${visors[2]!.pk}/reward 200`,
    ]);
    await expect(client.setRewardAddress(visors[2]!.pk, `${address.slice(0, -1)}z`)).rejects.toThrow(
      `hypervisor ${h.url}/api/visors/${visors[2]!.pk}/reward: HTTP 500: Invalid checksum`,
    );
    const bare = await fetch(`${h.url}/api/visors/${visors[2]!.pk}/reward`, { method: 'PUT', body: '{}' });
    expect(bare.status).toBe(401);
  });

  it('creates the only account on a fresh hypervisor, by its password rules, once', async () => {
    hv = new EmulatedHypervisor({ visors: () => visors, password: null });
    await hv.start();
    const client = new HypervisorClient({ url: hv.url, password: 'Good-pass1' });
    await expect(client.visorsSummary()).rejects.toThrow('refused: incorrect username or password');
    await expect(client.createAccount('skywire')).rejects.toThrow(
      'HTTP 400: password must have at least one upper, lower, digit and special character',
    );
    expect(await client.createAccount('Good-pass1')).toBe('created');
    expect(await client.createAccount('Good-pass1')).toBe('exists');
    expect(await client.visorsSummary()).toHaveLength(3);
  });

  it('sends a request once more when a kept-alive socket of a restarted hypervisor fails, and only once', async () => {
    let cut = 0;
    let served = 0;
    const server = createServer((req, res) => {
      if (cut > 0) {
        cut--;
        req.socket.destroy();
        return;
      }
      served++;
      res.writeHead(req.url === '/api/login' ? 200 : 200, {
        'content-type': 'application/json',
        ...(req.url === '/api/login' ? { 'set-cookie': 'swm-session=s; Path=/' } : {}),
      });
      res.end(req.url === '/api/login' ? 'true\n' : '[]\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const client = new HypervisorClient({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      });
      expect(await client.visorsSummary()).toEqual([]);
      cut = 1;
      expect(await client.visorsSummary()).toEqual([]);
      expect(served).toBe(3);
      cut = 2;
      expect((await failure(client.visorsSummary())).kind).toBe('unreachable');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
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
    expect(err.message).toBe(`cannot reach ${url}/api/login: ECONNREFUSED`);
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
