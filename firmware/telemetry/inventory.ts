import si from 'systeminformation';
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { readMemInfo } from '../../drivers/proc/meminfo.js';
import type { InventoryFigures } from '../protocol/figures.js';

/** What a board is, read once at start: the figures a heartbeat carries, and which came from fallbacks. */
export interface BoardInventory extends InventoryFigures {
  /** Which fields came from /proc, /sys and /etc because systeminformation returned nothing for them. */
  fallbacks: string[];
}

/** The part of systeminformation the inventory uses; the simulator passes an emulated board's answers. */
export interface InventorySource {
  system(): Promise<{ manufacturer?: string; model?: string; serial?: string }>;
  cpu(): Promise<{ manufacturer?: string; brand?: string; cores?: number }>;
  mem(): Promise<{ total?: number }>;
  osInfo?(): Promise<{ distro?: string; release?: string; kernel?: string }>;
  networkInterfaces?(): Promise<
    { iface?: string; mac?: string; internal?: boolean; virtual?: boolean; type?: string }[] | object
  >;
}

/** systeminformation itself: what a device passes. */
export const systemInformation: InventorySource = {
  system: () => si.system(),
  cpu: () => si.cpu(),
  mem: () => si.mem(),
  osInfo: () => si.osInfo(),
  networkInterfaces: () => si.networkInterfaces(),
};

/** Values systeminformation and firmware tables use for "nothing here". */
const EMPTY =
  /^(|-|unknown|default string|to be filled by o\.e\.m\.|not specified|system serial number|none|0)$/i;

/** At most the length the heartbeat's schema takes (protocol/figures.ts). */
function meaningful(v: string | undefined | null, max = 64): string | null {
  const t = (v ?? '').replace(/[\0-\x1f\x7f]/g, ' ').trim();
  return EMPTY.test(t) ? null : t.slice(0, max);
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

function withTimeout<T>(p: Promise<T> | undefined, ms: number): Promise<T | null> {
  if (!p) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      () => (clearTimeout(timer), resolve(null)),
    );
  });
}

/**
 * Board model, SoC, CPU, serial, MAC, OS, kernel and memory from systeminformation, with each empty answer (common
 * on busybox systems where its helper commands are missing) filled from the device tree, /proc, /sys and /etc.
 */
export async function inventory(
  root: FileRoot,
  source: InventorySource = systemInformation,
  opts: { timeoutMs?: number } = {},
): Promise<BoardInventory> {
  const ms = opts.timeoutMs ?? 10_000;
  const [sys, cpu, mem, os, nics] = await Promise.all([
    withTimeout(source.system(), ms),
    withTimeout(source.cpu(), ms),
    withTimeout(source.mem(), ms),
    withTimeout(source.osInfo?.(), ms),
    withTimeout(source.networkInterfaces?.(), ms),
  ]);
  const fallbacks: string[] = [];
  const text = (path: string): Promise<string | null> => root.readText(path).catch(() => null);
  const cpuinfo = (await text('proc/cpuinfo')) ?? '';
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}\\s*:\\s*(.+)$`, 'mi').exec(cpuinfo);
    return m ? meaningful(m[1]) : null;
  };

  let model = meaningful(
    [sys?.manufacturer, sys?.model]
      .map((v) => meaningful(v))
      .filter(Boolean)
      .join(' '),
  );
  if (!model) {
    model = meaningful(await text('proc/device-tree/model')) ?? field('Hardware') ?? field('Model');
    fallbacks.push('model');
  }
  let serial = meaningful(sys?.serial);
  if (!serial) {
    serial = meaningful(await text('proc/device-tree/serial-number')) ?? field('Serial');
    fallbacks.push('serial');
  }
  let cpuName = meaningful(
    [cpu?.manufacturer, cpu?.brand]
      .map((v) => meaningful(v))
      .filter(Boolean)
      .join(' '),
  );
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
  let mac = wiredMac(nics);
  if (!mac) {
    mac = await sysfsMac(root);
    fallbacks.push('mac');
  }
  let osName = meaningful(
    [os?.distro, os?.release]
      .map((v) => meaningful(v))
      .filter(Boolean)
      .join(' '),
  );
  if (!osName) {
    osName = osRelease((await text('etc/os-release')) ?? '');
    fallbacks.push('os');
  }
  let kernel = meaningful(os?.kernel);
  if (!kernel) {
    kernel = meaningful(await text('proc/sys/kernel/osrelease'));
    fallbacks.push('kernel');
  }
  // No helper knows the SoC: the device tree's last "compatible" entry names it (absent on PCs).
  const compatible = ((await text('proc/device-tree/compatible')) ?? '').split('\0').filter(Boolean);
  const soc = meaningful(compatible.at(-1));
  return {
    model,
    soc,
    cpu: cpuName,
    cores,
    serial,
    mac,
    os: osName,
    kernel,
    mem_total_bytes: memTotal,
    fallbacks,
  };
}

/** The first wired, physical interface's MAC from systeminformation's list. */
function wiredMac(nics: unknown): string | null {
  const list = Array.isArray(nics)
    ? (nics as { iface?: string; mac?: string; internal?: boolean; virtual?: boolean; type?: string }[])
    : [];
  const usable = list
    .filter((n) => !n.internal && !n.virtual && typeof n.mac === 'string' && MAC.test(n.mac))
    .filter((n) => n.mac !== '00:00:00:00:00:00');
  const pick = usable.find((n) => n.type === 'wired') ?? usable[0];
  return pick?.mac?.toLowerCase() ?? null;
}

/** The first interface in /sys/class/net with a real MAC (eth0 first). */
async function sysfsMac(root: FileRoot): Promise<string | null> {
  const names = await root.list('sys/class/net').catch(() => [] as string[]);
  names.sort((a, b) => Number(b === 'eth0') - Number(a === 'eth0') || a.localeCompare(b));
  for (const name of names) {
    if (name === 'lo') continue;
    const mac = (await root.readText(`sys/class/net/${name}/address`).catch(() => '')).trim().toLowerCase();
    if (MAC.test(mac) && mac !== '00:00:00:00:00:00') return mac;
  }
  return null;
}

/** PRETTY_NAME from /etc/os-release, else NAME and VERSION_ID. */
function osRelease(text: string): string | null {
  const value = (key: string): string | null => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    return m ? meaningful(m[1]!.replace(/^["']|["']$/g, '')) : null;
  };
  return value('PRETTY_NAME') ?? meaningful([value('NAME'), value('VERSION_ID')].filter(Boolean).join(' '));
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
