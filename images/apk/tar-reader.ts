import { ApkError } from './errors.js';

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

/** One member of a tar archive as the package declares it (never as the build host would see it). */
export interface TarEntry {
  name: string;
  type: EntryType;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkTarget: string | undefined;
  devMajor: number;
  devMinor: number;
  data: Buffer;
  /** `APK-TOOLS.checksum.SHA1` from the PAX header, hex. */
  sha1: string | undefined;
  xattrs: Map<string, Buffer>;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'dir',
  '6': 'fifo',
};

function field(h: Buffer, off: number, len: number): string {
  const end = h.indexOf(0, off);
  return h.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function octal(h: Buffer, off: number, len: number, what: string, subject: string): number {
  const s = h.toString('latin1', off, off + len);
  const m = /^ *([0-7]*)[ \0]*$/.exec(s);
  if (!m) throw new ApkError(subject, `bad tar header field ${what}: ${JSON.stringify(s)}`);
  return m[1] ? parseInt(m[1], 8) : 0;
}

function parsePax(data: Buffer, subject: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    const len = sp > pos ? Number(data.toString('latin1', pos, sp)) : NaN;
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new ApkError(subject, 'malformed PAX header');
    }
    const rec = data.subarray(sp + 1, pos + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new ApkError(subject, 'malformed PAX record');
    out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

/**
 * Reads a whole tar archive held in memory. Strict on purpose: header checksums are checked, numbers must be
 * plain octal, unknown entry types and trailing garbage are refused. The archive may end with the usual two
 * zero blocks or (as apk's signature and control parts do) right after its last member.
 */
export function readTar(buf: Buffer, subject: string): TarEntry[] {
  const out: TarEntry[] = [];
  let pos = 0;
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos < buf.length) {
    if (buf.length - pos < 512) throw new ApkError(subject, 'tar archive is truncated');
    const h = buf.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) {
      if (!buf.subarray(pos).every((b) => b === 0))
        throw new ApkError(subject, 'data after the end of the tar archive');
      break;
    }
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (octal(h, 148, 8, 'chksum', subject) !== sum)
      throw new ApkError(subject, `tar header checksum mismatch at byte ${pos}`);
    if (h.toString('latin1', 257, 262) !== 'ustar') throw new ApkError(subject, 'not a ustar archive');
    const size = octal(h, 124, 12, 'size', subject);
    const typeflag = String.fromCharCode(h[156]!);
    const dataStart = pos + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new ApkError(subject, 'tar member is truncated');
    const data = buf.subarray(dataStart, dataEnd);
    pos = dataStart + Math.ceil(size / 512) * 512;
    if (pos > buf.length) throw new ApkError(subject, 'tar padding is truncated');

    if (typeflag === 'x') {
      pax = parsePax(data, subject);
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (typeflag === 'K') {
      longLink = field(data, 0, data.length);
      continue;
    }
    const type = TYPES[typeflag];
    if (!type) throw new ApkError(subject, `unsupported tar entry type '${typeflag}'`);
    const prefix = field(h, 345, 155);
    let name = field(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    name = pax.get('path')?.toString('utf8') ?? longName ?? name;
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice(13), v);
    const sha1 = pax.get('APK-TOOLS.checksum.SHA1')?.toString('latin1');
    out.push({
      name,
      type,
      mode: octal(h, 100, 8, 'mode', subject) & 0o7777,
      uid: octal(h, 108, 8, 'uid', subject),
      gid: octal(h, 116, 8, 'gid', subject),
      uname: field(h, 265, 32),
      gname: field(h, 297, 32),
      mtime: octal(h, 136, 12, 'mtime', subject),
      linkTarget:
        type === 'symlink' || type === 'hardlink'
          ? (pax.get('linkpath')?.toString('utf8') ?? longLink ?? field(h, 157, 100))
          : undefined,
      devMajor: octal(h, 329, 8, 'devmajor', subject),
      devMinor: octal(h, 337, 8, 'devminor', subject),
      data: type === 'file' ? data : Buffer.alloc(0),
      sha1,
      xattrs,
    });
    pax = new Map();
    longName = undefined;
    longLink = undefined;
  }
  return out;
}
