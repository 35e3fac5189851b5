import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';
import { MemoryLogger } from '../../../drivers/logger.js';
import { parseArp, parseDefaultRoutes, readLinkState } from '../../../drivers/proc/route.js';
import {
  INITIAL_UPLINK,
  judgeUplink,
  nextUplink,
  UplinkMonitor,
  type UplinkObservation,
} from '../../../firmware/telemetry/uplink.js';

const x86 = new DirectoryRoot(fileURLToPath(new URL('../../fixtures/proc/debian-x86/', import.meta.url)));

const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
const ARP_HEADER = 'IP address       HW type     Flags       HW address            Mask     Device\n';

/** A manager on the box network: default route via 192.168.0.1 on eth0, link and ARP as given. */
function box(
  o: { route?: boolean; operstate?: string; carrier?: string; arpFlags?: string } = {},
): MemoryRoot {
  const root = new MemoryRoot();
  root.set(
    'proc/net/route',
    HEADER +
      (o.route === false ? '' : 'eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n') +
      'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
  );
  root.set('sys/class/net/eth0/operstate', `${o.operstate ?? 'up'}\n`);
  root.set('sys/class/net/eth0/carrier', `${o.carrier ?? '1'}\n`);
  root.set(
    'proc/net/arp',
    ARP_HEADER +
      (o.arpFlags === undefined
        ? ''
        : `192.168.0.1      0x1         ${o.arpFlags}         02:00:00:00:00:01     *        eth0\n`),
  );
  return root;
}

describe('kernel routing tables', () => {
  it('reads the default route and its gateway from a recorded /proc/net/route', async () => {
    const text = await x86.readText('proc/net/route');
    expect(parseDefaultRoutes(text)).toEqual([{ iface: 'eth0', gateway: '192.0.2.1', metric: 0 }]);
    expect(parseArp(await x86.readText('proc/net/arp'))).toEqual(new Map([['192.0.2.1', true]]));
    expect(await readLinkState(x86, 'eth0')).toEqual({ operstate: 'up', carrier: true });
  });

  it('orders default routes by metric and skips withdrawn ones', () => {
    const text =
      HEADER +
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n' +
      'eth1\t00000000\t0102A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n';
    expect(parseDefaultRoutes(text).map((r) => r.iface)).toEqual(['eth0', 'wlan0']);
  });

  it('names the file and the interface of a malformed line', () => {
    expect(() => parseDefaultRoutes(HEADER + 'eth0\tzzzz\t0100A8C0\t0003\t0\t0\t0\t00000000\n')).toThrow(
      '/proc/net/route: malformed line for "eth0"',
    );
    expect(() => parseArp(ARP_HEADER + '192.168.0.1 0x1\n')).toThrow(
      '/proc/net/arp: malformed line for "192.168.0.1"',
    );
  });

  it('refuses an interface name that would leave /sys/class/net', async () => {
    await expect(readLinkState(x86, '../../etc')).rejects.toThrow(
      '/sys/class/net: bad interface name "../../etc"',
    );
  });
});

describe('uplink judgement', () => {
  const up: UplinkObservation = {
    routes: [{ iface: 'eth0', gateway: '192.168.0.1', metric: 0 }],
    link: { operstate: 'up', carrier: true },
    neighbours: new Map([['192.168.0.1', true]]),
  };

  it('is up with a default route on a live link whose gateway answered', () => {
    expect(judgeUplink(up)).toEqual({ up: true, reason: 'via 192.168.0.1 on eth0' });
  });

  it('takes a gateway not yet in the ARP table as no evidence against it', () => {
    expect(judgeUplink({ ...up, neighbours: new Map() }).up).toBe(true);
  });

  it('is down without a default route, with the cable out, or with the gateway silent', () => {
    expect(judgeUplink({ ...up, routes: [] })).toEqual({ up: false, reason: 'no default route' });
    expect(judgeUplink({ ...up, link: { operstate: 'down', carrier: null } }).reason).toBe('eth0 link down');
    expect(judgeUplink({ ...up, link: { operstate: 'unknown', carrier: false } }).reason).toBe(
      'eth0 link down',
    );
    expect(judgeUplink({ ...up, link: null }).reason).toBe('eth0 is gone');
    expect(judgeUplink({ ...up, neighbours: new Map([['192.168.0.1', false]]) }).reason).toBe(
      'gateway 192.168.0.1 not answering',
    );
  });

  it('reports the uplink down only after 10 s of judgements saying so, and up again at once', () => {
    const down = { up: false, reason: 'eth0 link down' };
    let m = nextUplink(INITIAL_UPLINK, { up: true, reason: 'via x' }, 0, 10_000);
    expect(m.state).toBe('up');
    m = nextUplink(m, down, 1_000, 10_000);
    expect(m.state).toBe('up');
    m = nextUplink(m, down, 10_999, 10_000);
    expect(m.state).toBe('up');
    m = nextUplink(m, down, 11_000, 10_000);
    expect(m).toEqual({ state: 'down', reason: 'eth0 link down', downSince: 1_000 });
    m = nextUplink(m, { up: true, reason: 'via x' }, 12_000, 10_000);
    expect(m).toEqual({ state: 'up', reason: 'via x', downSince: null });
  });

  it('says unknown when the tables cannot be read', () => {
    expect(nextUplink(INITIAL_UPLINK, null, 0, 10_000).state).toBe('unknown');
  });
});

describe('uplink monitor', () => {
  it('reads the manager tables and logs each change once', async () => {
    let now = 0;
    const logger = new MemoryLogger();
    const root = box({ arpFlags: '0x2' });
    const monitor = new UplinkMonitor(root, { now: () => now, holdMs: 5_000, logger });
    expect(monitor.state).toBe('unknown');
    expect(await monitor.check()).toBe('up');
    root.set('sys/class/net/eth0/carrier', '0\n');
    root.set('sys/class/net/eth0/operstate', 'down\n');
    now = 1_000;
    expect(await monitor.check()).toBe('up');
    now = 6_000;
    expect(await monitor.check()).toBe('down');
    now = 7_000;
    expect(await monitor.check()).toBe('down');
    expect(logger.lines).toEqual([
      'info: uplink: up (via 192.168.0.1 on eth0)',
      'info: uplink: down (eth0 link down)',
    ]);
  });

  it('goes down when the route disappears, and unknown with a garbled table, without throwing', async () => {
    let now = 0;
    const root = box({ route: false });
    const monitor = new UplinkMonitor(root, { now: () => now, holdMs: 0 });
    expect(await monitor.check()).toBe('down');
    expect(monitor.reason).toBe('no default route');
    root.set('proc/net/route', HEADER + 'eth0 garbage\n');
    now = 1;
    expect(await monitor.check()).toBe('unknown');
  });

  it('treats a gateway whose ARP entry never completed as not answering', async () => {
    const monitor = new UplinkMonitor(box({ arpFlags: '0x0' }), { holdMs: 0 });
    expect(await monitor.check()).toBe('down');
    expect(monitor.reason).toBe('gateway 192.168.0.1 not answering');
  });
});
