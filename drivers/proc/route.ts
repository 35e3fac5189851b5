import type { FileRoot } from '../fileroot/file-root.js';
import { fields, ParseError } from './parse.js';

/** One IPv4 default route (destination 0.0.0.0/0) from `/proc/net/route`. */
export interface DefaultRoute {
  iface: string;
  /** Dotted quad; null for a route without a gateway (a point-to-point link). */
  gateway: string | null;
  metric: number;
}

// RTF_UP: a route the kernel has withdrawn keeps its line with this flag cleared.
const RTF_UP = 0x1;

/** The kernel prints addresses as the raw 32-bit word in hex, so on every board (little-endian) bytes run backwards. */
function dotted(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** The up default routes, lowest metric first (the one the kernel uses). */
export function parseDefaultRoutes(text: string): DefaultRoute[] {
  const routes: DefaultRoute[] = [];
  const lines = text.split('\n');
  for (const line of lines.slice(1)) {
    const f = fields(line);
    if (f.length === 0) continue;
    const [iface, dest, gw, flags, , , metric, mask] = f;
    const flagBits = parseInt(flags ?? '', 16);
    if (f.length < 8 || dotted(dest!) === null || dotted(gw!) === null || dotted(mask!) === null)
      throw new ParseError('/proc/net/route', `malformed line for "${iface}"`);
    if (Number.isNaN(flagBits) || !/^\d+$/.test(metric!))
      throw new ParseError('/proc/net/route', `malformed line for "${iface}"`);
    if (dest !== '00000000' || mask !== '00000000' || !(flagBits & RTF_UP)) continue;
    routes.push({ iface: iface!, gateway: gw === '00000000' ? null : dotted(gw!), metric: Number(metric) });
  }
  return routes.sort((a, b) => a.metric - b.metric);
}

export async function readDefaultRoutes(root: FileRoot): Promise<DefaultRoute[]> {
  return parseDefaultRoutes(await root.readText('proc/net/route'));
}

// ATF_COM: the neighbour answered; an entry without it is still being resolved, or failed.
const ATF_COM = 0x2;

/** Neighbours from `/proc/net/arp`: address -> whether it answered. */
export function parseArp(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of text.split('\n').slice(1)) {
    const f = fields(line);
    if (f.length === 0) continue;
    const flags = parseInt(f[2] ?? '', 16);
    if (f.length < 6 || !/^\d+\.\d+\.\d+\.\d+$/.test(f[0]!) || Number.isNaN(flags))
      throw new ParseError('/proc/net/arp', `malformed line for "${f[0]}"`);
    out.set(f[0]!, (flags & ATF_COM) !== 0);
  }
  return out;
}

export async function readArp(root: FileRoot): Promise<Map<string, boolean>> {
  return parseArp(await root.readText('proc/net/arp'));
}

/** An interface's link as sysfs tells it: `operstate` (RFC 2863 words) and `carrier` (1 with a cable). */
export interface LinkState {
  operstate: string;
  /** null when the kernel will not say (reading `carrier` of a down interface fails with EINVAL). */
  carrier: boolean | null;
}

export async function readLinkState(root: FileRoot, iface: string): Promise<LinkState> {
  if (!/^[\w.@:-]+$/.test(iface)) throw new ParseError('/sys/class/net', `bad interface name "${iface}"`);
  const operstate = (await root.readText(`sys/class/net/${iface}/operstate`)).trim();
  const carrierText = await root.readText(`sys/class/net/${iface}/carrier`).catch(() => '');
  const carrier = carrierText.trim() === '1' ? true : carrierText.trim() === '0' ? false : null;
  return { operstate, carrier };
}
