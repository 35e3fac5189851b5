import { describe, expect, it } from 'vitest';
import type { DiskJson, RewardsJson } from '../../../firmware/control/sources.js';
import {
  boardJson,
  boardsTable,
  disksTable,
  duration,
  eventLine,
  rewardsText,
  statusJson,
  statusText,
} from '../../../firmware/console/format.js';
import type { BoxView } from '../../../firmware/supervisor/view.js';

const view: BoxView = {
  at: 0,
  boards: [
    { board: 1, role: 'manager', status: 'up', forS: 3725, uptimeS: 90061, healthy: true },
    {
      board: 2,
      role: 'worker',
      status: 'up',
      forS: 59,
      uptimeS: 61,
      healthy: false,
      failing: ['event-loop', 'root-fs'],
    },
    { board: 3, role: 'worker', status: 'failed', forS: 80 },
    { board: 4, role: 'worker', status: 'off', forS: 5 },
  ],
};

const disk = (over: Partial<DiskJson>): DiskJson => ({
  board: 2,
  disk: 'sda',
  model: 'WDC WD10EZEX-08WN4A0 with a model name far too long',
  serial: 'WD-1',
  size_bytes: 1_000_204_886_016,
  verdict: 'ok',
  reasons: [],
  temperature_c: 34,
  mounted: true,
  used_pct: 41.6,
  ...over,
});

const rewards: RewardsJson = {
  boards: [
    {
      board: 1,
      pk: '02abcdef0123456789',
      online: true,
      uptime_today_pct: 99.5,
      on_track: true,
      reasons: [],
      rx_bps: 1_234_567,
      tx_bps: 800,
      version: 'v1.3.28',
      version_standing: 'below-soon',
      warnings: ['version v1.3.28 below v1.3.50, required from 2026-05-22 (in 3 days)'],
      reward_address: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
      reward_address_status: 'set',
      reward_address_via: 'hypervisor',
      reward_address_error: null,
    },
    {
      board: 2,
      pk: null,
      online: false,
      uptime_today_pct: 40,
      on_track: false,
      reasons: ['below 75% uptime today'],
      rx_bps: null,
      tx_bps: null,
      version: null,
      version_standing: 'unknown',
      warnings: [],
      reward_address: null,
      reward_address_status: 'unreachable',
      reward_address_via: null,
      reward_address_error: null,
    },
  ],
  box: {
    sky_per_hour_est: 0.0421,
    sky_per_day_est: 1.01,
    balance_sky: 12.5,
    coin_hours: 300,
    last_payout_sky: 1.02,
    stale: false,
    min_version: 'v1.3.50',
    min_version_from: '2026-05-22',
    reward_address: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
  },
};

describe('console tables', () => {
  it('prints durations short enough for a column', () => {
    expect([duration(5), duration(125), duration(3725), duration(90061), duration(undefined)]).toEqual([
      '5s', '2m 05s', '1h 02m', '1d 01h', '-',
    ]); // prettier-ignore
  });

  it('lays the boards out as a table with right-aligned numbers', () => {
    expect(boardsTable(view)).toBe(
      [
        'BOARD  ROLE     STATUS     FOR  UPTIME  HEALTH',
        '    1  manager  up      1h 02m  1d 01h  ok',
        '    2  worker   up         59s  1m 01s  failing',
        '    3  worker   failed  1m 20s       -  -',
        '    4  worker   off         5s       -  -',
      ].join('\n'),
    );
  });

  it('sums the box up, worst boards first, and says which data is missing', () => {
    const s = statusJson(view, null, null);
    expect(s).toEqual({
      boards: 4, up: 2, booting: 0, off: 1, suspect: 0, failed: 1, restarting: 0, quarantined: 0,
      attention: [ { board: 3, status: 'failed', for_s: 80 }, { board: 4, status: 'off', for_s: 5 } ],
      disks: null, rewards: null,
    }); // prettier-ignore
    expect(statusText(s)).toBe(
      [
        'Skyminer: 4 boards · 2 up · 1 off · 1 FAILED',
        '  board 3: failed for 1m 20s',
        '  board 4: off for 5s',
        'Disks: not available',
        'Rewards: not available',
      ].join('\n'),
    );
    const full = statusText(statusJson(view, [disk({}), disk({ disk: 'sdb', verdict: 'failing' })], rewards));
    expect(full).toContain('Disks: 2 · 1 ok · 1 FAILING');
    expect(full).toContain('Rewards: ~1.01 SKY/day, ~0.042 SKY/hour (estimates)');
  });

  it('fits disks and rewards in 80 columns, cutting long models and listing reasons', () => {
    const disks = disksTable([
      disk({}),
      disk({
        board: 3,
        verdict: 'failing',
        reasons: ['197 pending sectors: 8'],
        temperature_c: null,
        used_pct: null,
        mounted: false,
      }),
    ]);
    expect(disks.split('\n')).toEqual([
      'BOARD  DISK  MODEL                   SIZE  VERDICT  TEMP  USED  MOUNTED',
      '    2  sda   WDC WD10EZEX-08WN4A…  1.0 TB  ok        34C   42%  yes',
      '    3  sda   WDC WD10EZEX-08WN4A…  1.0 TB  failing     -     -  no',
      'board 3 sda: 197 pending sectors: 8',
    ]);
    const text = rewardsText(rewards);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).toContain('Estimate: ~0.042 SKY/hour, ~1.01 SKY/day (paid daily)');
    expect(text.split('\n').slice(2, 8)).toEqual([
      'Reward address: 2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6',
      '  set on board 1 · not listed by the hypervisor: board 2',
      'Version floor: v1.3.50 from 2026-05-22 · below it: board 1 (must update by then)',
      'BOARD  ONLINE  UPTIME  ON TRACK          RX         TX  VERSION  KEY',
      '    1  yes      99.5%  yes       1.2 Mbit/s  800 bit/s  v1.3.28  02abcdef0…',
      '    2  no       40.0%  no                 -          -  -        -',
    ]);
    expect(text).toContain('board 2: below 75% uptime today');
    expect(text).toContain('board 1: version v1.3.28 below v1.3.50, required from 2026-05-22 (in 3 days)');
  });

  it('prints an event on one line with its details, control characters neutralised', () => {
    expect(eventLine({ t: 12.5, board: 3, event: 'operator', operation: 'reset', by: 'console:ttyS0' })).toBe(
      '    12.50s  board 3   operator  operation=reset by=console:ttyS0',
    );
    expect(eventLine({ t: 1, board: 2, event: 'x', note: 'a\x1b[2Jb' })).toBe(
      '     1.00s  board 2   x  note=a?[2Jb',
    );
    expect(eventLine({ t: 1, board: 2, event: 'x', note: 'y'.repeat(200) }).length).toBe(80);
  });
});

describe('boards --json', () => {
  it('names the health checks a board says are failing, and none for a healthy one', () => {
    expect(boardJson(view.boards[1]!)).toMatchObject({ healthy: false, failing: ['event-loop', 'root-fs'] });
    expect(boardJson(view.boards[0]!)).toMatchObject({ healthy: true, failing: [] });
  });
});
