import type { FileRoot } from '../fileroot/file-root.js';
import { fields, ParseError, uint } from './parse.js';

/** Cumulative jiffies of one CPU line of `/proc/stat`; guest time is already counted in user and nice. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface CpuStat {
  total: CpuTimes;
  /** Indexed by core number; a core that is offline has no line and stays a hole (undefined). */
  cores: (CpuTimes | undefined)[];
}

const NAMES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export function parseCpuStat(text: string): CpuStat {
  let total: CpuTimes | undefined;
  const cores: (CpuTimes | undefined)[] = [];
  // The cpu lines come first; stop there rather than split the long intr and softirq lines that follow.
  for (let start = 0; text.startsWith('cpu', start);) {
    const nl = text.indexOf('\n', start);
    const line = text.slice(start, nl < 0 ? undefined : nl);
    start = nl < 0 ? text.length : nl + 1;
    const f = fields(line);
    const label = f[0]!;
    // Kernels before 2.6.11 lack steal and older ones iowait/irq: missing trailing fields count as zero.
    const values = f.slice(1, 9).map(uint);
    if (values.length < 4 || values.some(Number.isNaN))
      throw new ParseError('/proc/stat', `malformed line "${line}"`);
    const times = Object.fromEntries(NAMES.map((n, i) => [n, values[i] ?? 0])) as unknown as CpuTimes;
    if (label === 'cpu') total = times;
    else {
      const n = uint(label.slice(3));
      if (Number.isNaN(n)) throw new ParseError('/proc/stat', `bad cpu label "${label}"`);
      cores[n] = times;
    }
  }
  if (!total) throw new ParseError('/proc/stat', 'no aggregate "cpu" line');
  return { total, cores };
}

export async function readCpuStat(root: FileRoot): Promise<CpuStat> {
  return parseCpuStat(await root.readText('proc/stat'));
}

export interface CpuLoad {
  /** Busy share 0..100, or null with a reason. */
  pct: number | null;
  reason?: 'counter-reset' | 'no-time-elapsed' | 'core-missing';
}

function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Busy percentage between two readings of one CPU line; iowait counts as idle, as top does. */
export function cpuLoad(prev: CpuTimes | undefined, next: CpuTimes | undefined): CpuLoad {
  if (!prev || !next) return { pct: null, reason: 'core-missing' };
  // Every field must move forwards: a reboot or a hot-unplugged core resets them.
  for (const n of NAMES) if (next[n] < prev[n]) return { pct: null, reason: 'counter-reset' };
  const dTotal = sum(next) - sum(prev);
  if (dTotal <= 0) return { pct: null, reason: 'no-time-elapsed' };
  const dIdle = next.idle + next.iowait - (prev.idle + prev.iowait);
  return { pct: Math.min(100, Math.max(0, (100 * (dTotal - dIdle)) / dTotal)) };
}

/** Total and per-core busy percentages between two `/proc/stat` readings. */
export function cpuLoads(prev: CpuStat, next: CpuStat): { total: CpuLoad; cores: CpuLoad[] } {
  const n = Math.max(prev.cores.length, next.cores.length);
  const cores: CpuLoad[] = [];
  for (let i = 0; i < n; i++) cores.push(cpuLoad(prev.cores[i], next.cores[i]));
  return { total: cpuLoad(prev.total, next.total), cores };
}
