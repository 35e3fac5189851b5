import { describe, expect, it } from 'vitest';
import { diskEvents } from '../../../firmware/supervisor/disk-events.js';

const hb = (...disks: { disk: string; verdict: string; reasons?: string[] }[]) => ({
  cpu_pct: 10,
  disks: disks.map((d) => ({ reasons: [], mounted: true, ...d })),
});

describe('disk events from heartbeats', () => {
  it('reports every disk of a board the first time it is heard', () => {
    expect(diskEvents(undefined, hb({ disk: 'sda', verdict: 'ok' }))).toEqual([
      { event: 'disk-added', details: { disk: 'sda', verdict: 'ok' } },
    ]);
  });

  it('logs a disk that turns failing, with its reasons', () => {
    const events = diskEvents(
      hb({ disk: 'sda', verdict: 'ok' }),
      hb({ disk: 'sda', verdict: 'failing', reasons: ['SMART overall-health self-assessment FAILED'] }),
    );
    expect(events).toEqual([
      {
        event: 'disk',
        details: {
          disk: 'sda',
          verdict: 'failing',
          was: 'ok',
          reasons: ['SMART overall-health self-assessment FAILED'],
        },
      },
    ]);
  });

  it('logs a disk pulled out, and nothing while nothing changes', () => {
    expect(diskEvents(hb({ disk: 'sda', verdict: 'ok' }), hb())).toEqual([
      { event: 'disk-removed', details: { disk: 'sda' } },
    ]);
    expect(diskEvents(hb({ disk: 'sda', verdict: 'ok' }), hb({ disk: 'sda', verdict: 'ok' }))).toEqual([]);
  });

  it('ignores malformed disk entries instead of failing on them', () => {
    expect(diskEvents(undefined, { disks: [null, 7, { disk: 3 }, { disk: 'sdb' }] })).toEqual([]);
    expect(diskEvents({ disks: 'nope' }, undefined)).toEqual([]);
  });
});
