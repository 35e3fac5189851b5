import { describe, expect, it } from 'vitest';
import {
  goDurationMs,
  parseConnectedHypervisors,
  parseVisorInfo,
} from '../../../firmware/skywire/visor-info.js';
import { sumTransportLog, transportLogPath, transportRate } from '../../../firmware/skywire/transport-log.js';

const PK = `02${'a1'.repeat(32)}`;
const answer = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    output: {
      public_key: PK,
      symmetric_nat: false,
      ip: '192.168.0.3',
      dmsg_server: `03${'b2'.repeat(32)}`,
      ping: '1.534ms',
      visor_version: 'v1.3.28',
      skybian_version: '',
      uptime_tracker: 'connecting',
      time_online: 42.5,
      build_tag: 'linux_arm64',
      ...over,
    },
  });

describe("the visor's own summary (skywire cli visor info --json)", () => {
  it('reads the key, version, dmsg state, round trip, services health and uptime', () => {
    expect(parseVisorInfo(answer())).toEqual({
      pk: PK,
      version: 'v1.3.28',
      dmsgConnected: true,
      connectedHypervisors: null,
      roundTripMs: 1.53,
      servicesHealth: 'connecting',
      uptimeS: 42.5,
    });
  });

  it('says dmsg is not connected when the server key is all zeros', () => {
    expect(parseVisorInfo(answer({ dmsg_server: '0'.repeat(66), ping: '0s' }))).toMatchObject({
      dmsgConnected: false,
      roundTripMs: 0,
    });
  });

  it("turns the CLI's error answer and malformed answers into one line naming what was wrong", () => {
    expect(() =>
      parseVisorInfo(
        '{"error":"Failed to connect to visor RPC or RPC method not found; is skywire running?: EOF"}',
      ),
    ).toThrow('skywire cli visor info: Failed to connect to visor RPC');
    expect(() => parseVisorInfo('not json')).toThrow('the answer is not JSON');
    expect(() => parseVisorInfo(answer({ visor_version: 3 }))).toThrow('visor_version missing');
    expect(() => parseVisorInfo(answer({ time_online: 'x' }))).toThrow('time_online missing');
    expect(() => parseVisorInfo('{}')).toThrow('no output');
  });

  it('reads the hypervisors a visor is connected to, none as the CLI prints none', () => {
    expect(parseConnectedHypervisors(`{"output":["${PK}"]}`)).toEqual([PK]);
    expect(parseConnectedHypervisors('{}')).toEqual([]);
    expect(() => parseConnectedHypervisors('{"output":[1]}')).toThrow('expected a list of keys');
    expect(() => parseConnectedHypervisors('{"error":"RPC connection failed"}')).toThrow(
      'skywire cli visor hv pk: RPC connection failed',
    );
  });

  it("reads Go's durations and refuses what is not one", () => {
    expect(goDurationMs('2m3.5s')).toBe(123_500);
    expect(goDurationMs('250µs')).toBe(0.25);
    expect(goDurationMs('1h')).toBe(3_600_000);
    expect(goDurationMs('fast')).toBeNull();
    expect(goDurationMs('12')).toBeNull();
  });
});

describe("a visor's transport logs", () => {
  it("names the day's file by the UTC date", () => {
    expect(transportLogPath('/data/skywire/local', Date.UTC(2026, 11, 5, 23, 59))).toBe(
      '/data/skywire/local/transport_logs/2026-12-05.csv',
    );
  });

  it('sums every transport of the day, finding the columns by name and skipping rows that do not parse', () => {
    const csv = 'tp_id,recv,sent,time_stamp\nA,100,40,1\nB,23,2,1\nC,x,1,1\n';
    expect(sumTransportLog(csv)).toEqual({ recv: 123, sent: 42 });
    expect(sumTransportLog('sent,tp_id,recv\n5,A,7\n')).toEqual({ recv: 7, sent: 5 });
    expect(sumTransportLog('')).toEqual({ recv: 0, sent: 0 });
    expect(sumTransportLog('garbage\n1,2\n')).toEqual({ recv: 0, sent: 0 });
  });

  it('gives a rate between two reads, none across a new day whose totals start over', () => {
    const a = { at: 0, bytes: { recv: 1000, sent: 500 } };
    expect(transportRate(a, { at: 2000, bytes: { recv: 5000, sent: 700 } })).toEqual({
      rxBps: 2000,
      txBps: 100,
    });
    expect(transportRate(a, { at: 2000, bytes: { recv: 10, sent: 10 } })).toBeNull();
    expect(transportRate(null, a)).toBeNull();
  });
});
