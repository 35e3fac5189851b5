import { describe, expect, it } from 'vitest';
import type { DiskFigures } from '../../../firmware/protocol/figures.js';
import { diskEvents } from '../../../firmware/supervisor/disk-events.js';
import { heartbeatFigures } from '../../../firmware/telemetry/heartbeat-figures.js';

const hb = (...disks: Pick<DiskFigures, 'disk' | 'verdict' | 'reasons'>[]) =>
  heartbeatFigures(
    undefined,
    disks.map((d) => ({
      board: 2,
      model: null,
      serial: null,
      size_bytes: 1e12,
      temperature_c: null,
      mounted: true,
      used_pct: null,
      ...d,
    })),
  );

describe('disk events from heartbeats', () => {
  it('reports every disk of a board the first time it is heard', () => {
    expect(diskEvents(undefined, hb({ disk: 'sda', verdict: 'ok', reasons: [] }))).toEqual([
      { event: 'disk-added', details: { disk: 'sda', verdict: 'ok' } },
    ]);
  });

  it('logs a disk that turns failing, with its reasons', () => {
    const events = diskEvents(
      hb({ disk: 'sda', verdict: 'ok', reasons: [] }),
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
    expect(diskEvents(hb({ disk: 'sda', verdict: 'ok', reasons: [] }), hb())).toEqual([
      { event: 'disk-removed', details: { disk: 'sda' } },
    ]);
    expect(
      diskEvents(
        hb({ disk: 'sda', verdict: 'ok', reasons: [] }),
        hb({ disk: 'sda', verdict: 'ok', reasons: [] }),
      ),
    ).toEqual([]);
  });
});
