// U-Boot's environment as stored: a CRC32, (in a redundant pair) a flags byte, then "name=value\0"... "\0",
// padded to the environment's size. Written here in one piece, never variable by variable (SWUpdate's lesson:
// a sequence of single writes can leave a half-switched board).
import { open, rename, writeFile } from 'node:fs/promises';

export type Env = Record<string, string>;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's CRC-32, as U-Boot computes it (Node 20.11 on the armv7 boards has no zlib.crc32). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class EnvError extends Error {
  override readonly name = 'EnvError';
}

export function encodeEnv(env: Env, size: number, flags?: number): Buffer {
  const head = flags === undefined ? 4 : 5;
  const body = Buffer.alloc(size - head, 0);
  let at = 0;
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^[^=\0]+$/.test(k) || v.includes('\0'))
      throw new EnvError(`environment variable ${k}: bad name or value`);
    const entry = Buffer.from(`${k}=${v}\0`);
    if (at + entry.length + 1 > body.length)
      throw new EnvError(`the environment does not fit its ${size} bytes`);
    entry.copy(body, at);
    at += entry.length;
  }
  const out = Buffer.alloc(size);
  out.writeUInt32LE(crc32(body), 0);
  if (flags !== undefined) out[4] = flags & 0xff;
  body.copy(out, head);
  return out;
}

/** One stored copy: its variables, or undefined when its CRC does not match (blank, torn or damaged). */
export function decodeEnv(buf: Buffer, redundant: boolean): { env: Env; flags: number } | undefined {
  const head = redundant ? 5 : 4;
  if (buf.length <= head) return undefined;
  const body = buf.subarray(head);
  if (crc32(body) !== buf.readUInt32LE(0)) return undefined;
  const env: Env = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at);
    const entry = body.subarray(at, end < 0 ? body.length : end).toString();
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    at = end < 0 ? body.length : end + 1;
  }
  return { env, flags: redundant ? buf[4]! : 0 };
}

/**
 * Which copy of a redundant pair U-Boot takes: the only valid one, or of two valid ones the newer by flags
 * (a copy's flags are the other's plus one; 0 follows 255).
 */
export function activeCopy(
  copies: readonly Buffer[],
): { index: number; env: Env; flags: number } | undefined {
  const decoded = copies.map((c) => decodeEnv(c, copies.length === 2));
  const [a, b] = decoded;
  if (copies.length === 1) return a ? { index: 0, ...a } : undefined;
  if (a && b) {
    const bNewer = b.flags === ((a.flags + 1) & 0xff) || (a.flags === 255 && b.flags === 0);
    return bNewer ? { index: 1, ...b } : { index: 0, ...a };
  }
  if (a) return { index: 0, ...a };
  if (b) return { index: 1, ...b };
  return undefined;
}

/** Where the environment lives. */
export interface EnvStore {
  /** Each copy's bytes: one, or two for a redundant environment. */
  read(): Promise<Buffer[]>;
  /** Replaces one copy; must be durable when it returns. */
  write(index: number, data: Buffer): Promise<void>;
  readonly size: number;
  readonly redundant: boolean;
  readonly where: string;
}

/** Raw storage (a flash or a block device, or a file standing in for one): copies at fixed offsets. */
export class RawEnvStore implements EnvStore {
  constructor(
    readonly path: string,
    private readonly offsets: readonly number[],
    readonly size: number,
  ) {}
  get redundant(): boolean {
    return this.offsets.length === 2;
  }
  get where(): string {
    return `${this.path} at ${this.offsets.join(' and ')}`;
  }
  async read(): Promise<Buffer[]> {
    const fh = await open(this.path, 'r');
    try {
      const out: Buffer[] = [];
      for (const off of this.offsets) {
        const b = Buffer.alloc(this.size);
        await fh.read(b, 0, this.size, off);
        out.push(b);
      }
      return out;
    } finally {
      await fh.close();
    }
  }
  async write(index: number, data: Buffer): Promise<void> {
    const fh = await open(this.path, 'r+');
    try {
      await fh.write(data, 0, data.length, this.offsets[index]!);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

/** A NOR flash's physical window: the native addon's /dev/mem reads and CFI writes on a board, a fake in tests. */
export interface PhysFlash {
  read(address: number, length: number): Buffer;
  /** Erases the blocks at `address` and programs `data` (whole blocks) there, checked by reading it back. */
  write(address: number, blockBytes: number, data: Buffer): void;
}

/**
 * A U-Boot environment on a CFI NOR flash the kernel has no driver for (QEMU virt's flash under Debian's arm64
 * kernel): read and written at its physical address through /dev/mem, its erase block at a time. The rest of a
 * block past the environment is left erased.
 */
export class CfiFlashEnvStore implements EnvStore {
  readonly redundant = false;
  constructor(
    readonly address: number,
    readonly size: number,
    readonly blockBytes: number,
    private readonly flash: PhysFlash,
  ) {}
  get where(): string {
    return `the flash at physical 0x${this.address.toString(16)}`;
  }
  async read(): Promise<Buffer[]> {
    return [this.flash.read(this.address, this.size)];
  }
  async write(_index: number, data: Buffer): Promise<void> {
    const whole = Buffer.alloc(Math.ceil(data.length / this.blockBytes) * this.blockBytes, 0xff);
    data.copy(whole);
    this.flash.write(this.address, this.blockBytes, whole);
  }
}

/** A file on the boot partition (uboot.env: sunxi keeps its environment on FAT): replaced by rename. */
export class FileEnvStore implements EnvStore {
  readonly redundant = false;
  constructor(
    readonly path: string,
    readonly size: number,
  ) {}
  get where(): string {
    return this.path;
  }
  async read(): Promise<Buffer[]> {
    const fh = await open(this.path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!fh) return [Buffer.alloc(this.size)];
    try {
      const b = Buffer.alloc(this.size);
      await fh.read(b, 0, this.size, 0);
      return [b];
    } finally {
      await fh.close();
    }
  }
  async write(_index: number, data: Buffer): Promise<void> {
    const tmp = `${this.path}.new`;
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, this.path);
  }
}

/** The current variables (empty when no copy is valid: U-Boot then uses its built-in defaults). */
export async function readEnv(store: EnvStore): Promise<Env> {
  return activeCopy(await store.read())?.env ?? {};
}

/**
 * Sets and clears variables in one write. With a redundant pair the copy not in use is written, flags one
 * higher, so a write cut short leaves the previous environment in force.
 */
export async function updateEnv(store: EnvStore, changes: Record<string, string | undefined>): Promise<Env> {
  const copies = await store.read();
  const active = activeCopy(copies);
  // Writing over U-Boot's built-in defaults would drop its bootcmd: the boot script saves them on its first run.
  if (!active)
    throw new EnvError(
      `U-Boot's environment (${store.where}) has no saved copy yet: the boot script saves one at its first boot`,
    );
  const env: Env = { ...(active?.env ?? {}) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  if (store.redundant) {
    await store.write(1 - active.index, encodeEnv(env, store.size, (active.flags + 1) & 0xff));
  } else {
    await store.write(0, encodeEnv(env, store.size));
  }
  return env;
}
