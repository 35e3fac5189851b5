import { describe, expect, it } from 'vitest';
import { transportRates, type CounterSample } from '../../../firmware/skywire/bandwidth.js';

const sample = (atMs: number, uptimeS: number, t: [string, number, number][]): CounterSample => ({
  atMs,
  uptimeS,
  transports: t.map(([id, recv, sent]) => ({ id, recv, sent })),
});

describe('transport bandwidth', () => {
  it('turns the growth of cumulative byte counts into bits per second', () => {
    const a = sample(0, 100, [
      ['t1', 1000, 500],
      ['t2', 0, 0],
    ]);
    const b = sample(2000, 102, [
      ['t1', 3000, 1500],
      ['t2', 500, 250],
    ]);
    expect(transportRates(a, b)).toEqual({ rxBps: ((2000 + 500) * 8) / 2, txBps: ((1000 + 250) * 8) / 2 });
  });

  it('gives no rate on the first read', () => {
    expect(transportRates(undefined, sample(0, 1, [['t1', 5, 5]]))).toBeNull();
  });

  it('gives no rate, never a negative one, across a visor restart', () => {
    const a = sample(0, 5000, [['t1', 9_000_000, 9_000_000]]);
    const b = sample(10_000, 3, [['t1', 100, 100]]);
    expect(transportRates(a, b)).toBeNull();
  });

  it('leaves out a transport whose counters went backwards or that is new', () => {
    const a = sample(0, 100, [
      ['t1', 1000, 1000],
      ['t2', 5000, 5000],
    ]);
    const b = sample(1000, 101, [
      ['t1', 2000, 1000],
      ['t2', 10, 10],
      ['t3', 800, 800],
    ]);
    expect(transportRates(a, b)).toEqual({ rxBps: 8000, txBps: 0 });
  });

  it('refuses an absurd rate and a non-advancing clock', () => {
    const a = sample(0, 100, [['t1', 0, 0]]);
    expect(transportRates(a, sample(1, 100, [['t1', 1e12, 0]]))).toBeNull();
    expect(transportRates(a, sample(0, 100, [['t1', 10, 0]]))).toBeNull();
  });
});
