import type { FileRoot } from '../fileroot/file-root.js';
import { ParseError } from './parse.js';

/** The `/proc/meminfo` figures the telemetry uses, in bytes. */
export interface MemInfo {
  total: number;
  free: number;
  /** The kernel's own estimate; computed from free + reclaimable caches on kernels older than 3.14. */
  available: number;
  buffers: number;
  cached: number;
  swapTotal: number;
  swapFree: number;
}

export function parseMemInfo(text: string): MemInfo {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const value = parseInt(line.slice(colon + 1), 10);
    if (Number.isFinite(value)) kb.set(line.slice(0, colon), value * 1024);
  }
  const total = kb.get('MemTotal');
  const free = kb.get('MemFree');
  if (total === undefined || free === undefined)
    throw new ParseError('/proc/meminfo', 'no MemTotal or MemFree');
  const buffers = kb.get('Buffers') ?? 0;
  const cached = kb.get('Cached') ?? 0;
  const available =
    kb.get('MemAvailable') ?? Math.min(total, free + buffers + cached + (kb.get('SReclaimable') ?? 0));
  return {
    total,
    free,
    available,
    buffers,
    cached,
    swapTotal: kb.get('SwapTotal') ?? 0,
    swapFree: kb.get('SwapFree') ?? 0,
  };
}

export async function readMemInfo(root: FileRoot): Promise<MemInfo> {
  return parseMemInfo(await root.readText('proc/meminfo'));
}
