import { describe, expect, it } from 'vitest';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { parseVisorSummary, parseVisorsSummary } from '../../../firmware/skywire/visor-summary.js';

const pk = emulatedPk('board-2');

describe('visor summary', () => {
  it('reads the figures the rewards need from a hypervisor summary', () => {
    const v = new EmulatedVisor({
      pk,
      localIp: '192.168.0.3',
      rewardAddress: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6\n',
    });
    v.start(1_000);
    v.carry(4000, 2000);
    const f = parseVisorSummary(v.summary(301_000));
    expect(f).toMatchObject({
      pk,
      online: true,
      servicesHealth: 'healthy',
      version: 'v1.3.28',
      dmsgRoundTripMs: 42,
      dmsgConnected: true,
      uptimeS: 300,
      rewardAddress: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
      localIp: '192.168.0.3',
    });
    expect(f.transports).toHaveLength(2);
    expect(f.transports[0]).toMatchObject({ recv: 2000, sent: 1000 });
  });

  it('reads an offline visor with null transports and no dmsg figures', () => {
    const v = new EmulatedVisor({ pk, localIp: '192.168.0.3' });
    v.start(0);
    v.stop(5000);
    const f = parseVisorSummary(v.summary(6000));
    expect(f).toMatchObject({ online: false, dmsgConnected: false, transports: [], rewardAddress: null });
  });

  it('takes every visor the hypervisor lists as online, whatever its own online field says', () => {
    const [f] = parseVisorsSummary([{ overview: { local_pk: pk }, health: {}, online: false }]);
    expect(f).toMatchObject({ pk, online: true, version: null, uptimeS: null, localIp: null });
    expect(parseVisorsSummary(null)).toEqual([]);
  });

  it('says connecting for the first 300 s after a visor starts, as the real one does', () => {
    const v = new EmulatedVisor({ pk, localIp: '192.168.0.3' });
    v.start(0);
    expect(parseVisorSummary(v.summary(299_000)).servicesHealth).toBe('connecting');
    expect(parseVisorSummary(v.summary(300_000)).servicesHealth).toBe('healthy');
  });

  it('names the field of an unexpected answer in one line', () => {
    expect(() => parseVisorsSummary({ visors: [] })).toThrow('visors summary: (top level): ');
    expect(() => parseVisorsSummary([{ overview: { local_pk: 'abc' }, online: true }])).toThrow(
      'visors summary: 0.overview.local_pk: expected a 66-digit hex public key',
    );
    expect(() =>
      parseVisorSummary({
        overview: { local_pk: pk, transports: [{ id: 'x', log: { recv: -1, sent: 0 } }] },
        online: true,
      }),
    ).toThrow(/^visor summary: overview\.transports\.0\.log\.recv: /);
  });
});
