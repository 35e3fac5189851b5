import { describe, expect, it } from 'vitest';
import { accrue, type BoardUptime } from '../../../firmware/rewards/uptime.js';

const S = 1000;
const H = 3_600_000;
const midnight = Date.UTC(2025, 2, 14);

describe('daily uptime accrual', () => {
  it('credits the time since midnight that the visor has been up on the first sample of the day', () => {
    const { next } = accrue(undefined, { nowMs: midnight + 2 * H, online: true, uptimeS: 10 * 3600 });
    expect(next).toEqual({
      day: '2025-03-14',
      onlineMs: 2 * H,
      lastMs: midnight + 2 * H,
      lastUptimeS: 36000,
    });
  });

  it('credits only the time since a visor restart', () => {
    const prev: BoardUptime = { day: '2025-03-14', onlineMs: H, lastMs: midnight + H, lastUptimeS: 9000 };
    const { next } = accrue(prev, { nowMs: midnight + H + 60 * S, online: true, uptimeS: 20 });
    expect(next.onlineMs).toBe(H + 20 * S);
  });

  it('credits nothing for an offline visor, however long the gap', () => {
    const prev: BoardUptime = { day: '2025-03-14', onlineMs: H, lastMs: midnight + H, lastUptimeS: 3600 };
    const { next } = accrue(prev, { nowMs: midnight + 5 * H, online: false, uptimeS: null });
    expect(next.onlineMs).toBe(H);
    expect(next.lastMs).toBe(midnight + 5 * H);
  });

  it('credits no more than the visor ran when our clock jumps forward', () => {
    const prev: BoardUptime = { day: '2025-03-14', onlineMs: H, lastMs: midnight + H, lastUptimeS: 3600 };
    const { next } = accrue(prev, { nowMs: midnight + 6 * H, online: true, uptimeS: 3660 });
    expect(next.onlineMs).toBe(H + 60 * S);
  });

  it('credits nothing and keeps the day when our clock goes backwards', () => {
    const prev: BoardUptime = {
      day: '2025-03-14',
      onlineMs: 2 * H,
      lastMs: midnight + 3 * H,
      lastUptimeS: 1e5,
    };
    const r = accrue(prev, { nowMs: midnight + H, online: true, uptimeS: 1e5 + 60 });
    expect(r.clockWentBack).toBe(true);
    expect(r.next.onlineMs).toBe(2 * H);
  });

  it('splits an interval across midnight and closes the day that ended', () => {
    const prev: BoardUptime = {
      day: '2025-03-13',
      onlineMs: 23 * H,
      lastMs: midnight - 30 * 60 * S,
      lastUptimeS: 1e5,
    };
    const r = accrue(prev, { nowMs: midnight + 10 * 60 * S, online: true, uptimeS: 1e5 + 40 * 60 });
    expect(r.closed).toEqual({ day: '2025-03-13', onlineMs: 23 * H + 30 * 60 * S });
    expect(r.next.day).toBe('2025-03-14');
    expect(r.next.onlineMs).toBe(10 * 60 * S);
  });

  it('never credits more than the time elapsed today', () => {
    const prev: BoardUptime = { day: '2025-03-14', onlineMs: 2 * H, lastMs: midnight + H };
    const { next } = accrue(prev, { nowMs: midnight + 2 * H, online: true, uptimeS: 1e6 });
    expect(next.onlineMs).toBe(2 * H);
  });
});
