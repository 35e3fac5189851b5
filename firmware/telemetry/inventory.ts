import si from 'systeminformation';
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { readMemInfo } from '../../drivers/proc/meminfo.js';

/** What a board is, read once at start. */
export interface BoardInventory {
  model: string | null;
  serial: string | null;
  cpu: string | null;
  cores: number | null;
  mem_total_bytes: number | null;
  /** Which fields came from /proc and /sys because systeminformation returned nothing for them. */
  fallbacks: string[];
}

/** The part of systeminformation the inventory uses, so tests can pass a stand-in. */
export interface InventorySource {
  system(): Promise<{ manufacturer?: string; model?: string; serial?: string }>;
  cpu(): Promise<{ manufacturer?: string; brand?: string; cores?: number }>;
  mem(): Promise<{ total?: number }>;
}

/** Values systeminformation and firmware tables use for "nothing here". */
const EMPTY =
  /^(|-|unknown|default string|to be filled by o\.e\.m\.|not specified|system serial number|none|0)$/i;

function meaningful(v: string | undefined | null): string | null {
  const t = (v ?? '').replace(/\0/g, '').trim();
  return EMPTY.test(t) ? null : t;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      () => (clearTimeout(timer), resolve(null)),
    );
  });
}

/**
 * Board model, CPU, serial and memory from systeminformation, with each empty answer (common on busybox systems
 * where its helper commands are missing) filled from the device tree, /proc/cpuinfo and /proc/meminfo.
 */
export async function inventory(
  root: FileRoot,
  source: InventorySource = si,
  opts: { timeoutMs?: number } = {},
): Promise<BoardInventory> {
  const ms = opts.timeoutMs ?? 10_000;
  const [sys, cpu, mem] = await Promise.all([
    withTimeout(source.system(), ms),
    withTimeout(source.cpu(), ms),
    withTimeout(source.mem(), ms),
  ]);
  const fallbacks: string[] = [];
  const text = (path: string): Promise<string | null> => root.readText(path).catch(() => null);
  const cpuinfo = (await text('proc/cpuinfo')) ?? '';
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}\\s*:\\s*(.+)$`, 'mi').exec(cpuinfo);
    return m ? meaningful(m[1]) : null;
  };

  let model = meaningful([sys?.manufacturer, sys?.model].map(meaningful).filter(Boolean).join(' '));
  if (!model) {
    model = meaningful(await text('proc/device-tree/model')) ?? field('Hardware') ?? field('Model');
    fallbacks.push('model');
  }
  let serial = meaningful(sys?.serial);
  if (!serial) {
    serial = meaningful(await text('proc/device-tree/serial-number')) ?? field('Serial');
    fallbacks.push('serial');
  }
  let cpuName = meaningful([cpu?.manufacturer, cpu?.brand].map(meaningful).filter(Boolean).join(' '));
  if (!cpuName) {
    cpuName = field('model name') ?? armCore(field('CPU part'));
    fallbacks.push('cpu');
  }
  let cores = cpu?.cores && cpu.cores > 0 ? cpu.cores : null;
  if (!cores) {
    const n = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
    cores = n > 0 ? n : null;
    fallbacks.push('cores');
  }
  let memTotal = mem?.total && mem.total > 0 ? mem.total : null;
  if (!memTotal) {
    memTotal = (await readMemInfo(root).catch(() => null))?.total ?? null;
    fallbacks.push('mem_total_bytes');
  }
  return { model, serial, cpu: cpuName, cores, mem_total_bytes: memTotal, fallbacks };
}

/** ARM cores name themselves only by part number in /proc/cpuinfo. */
function armCore(part: string | null): string | null {
  const names: Record<string, string> = {
    '0xc07': 'ARM Cortex-A7',
    '0xc09': 'ARM Cortex-A9',
    '0xc0f': 'ARM Cortex-A15',
    '0xd03': 'ARM Cortex-A53',
    '0xd04': 'ARM Cortex-A35',
    '0xd05': 'ARM Cortex-A55',
    '0xd07': 'ARM Cortex-A57',
    '0xd08': 'ARM Cortex-A72',
    '0xd0b': 'ARM Cortex-A76',
  };
  return part ? (names[part.toLowerCase()] ?? `ARM core ${part}`) : null;
}
