/** Fields of one tar header, as apk-tools writes them. */
export interface TarHeaderFields {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime: number;
  linkname?: string;
  devMajor?: number;
  devMinor?: number;
}

/** apk's put_octal: right-aligned, zero-padded, optionally ending in NUL. */
function putOctal(h: Buffer, off: number, len: number, value: number, nul: boolean): void {
  const digits = nul ? len - 1 : len;
  const s = value.toString(8).padStart(digits, '0').slice(-digits);
  h.write(s, off, 'latin1');
  if (nul) h[off + len - 1] = 0;
}

/**
 * A 512-byte header laid out the way apk-tools' tar writer lays it out (old-GNU magic `ustar  `, uname and
 * gname `root` by default), so `scripts.tar` matches what apk itself would write byte for byte.
 */
export function tarHeader(f: TarHeaderFields): Buffer {
  const h = Buffer.alloc(512);
  h.write(f.name.slice(0, 100), 0, 'utf8');
  putOctal(h, 100, 8, f.mode & 0o7777, true);
  putOctal(h, 108, 8, f.uid ?? 0, true);
  putOctal(h, 116, 8, f.gid ?? 0, true);
  putOctal(h, 124, 12, f.size, false);
  putOctal(h, 136, 12, f.mtime, false);
  h.write(f.typeflag, 156, 'latin1');
  if (f.linkname) h.write(f.linkname.slice(0, 100), 157, 'utf8');
  h.write('ustar  \0', 257, 'latin1');
  h.write((f.uname ?? 'root').slice(0, 31), 265, 'utf8');
  h.write((f.gname ?? 'root').slice(0, 31), 297, 'utf8');
  if (f.devMajor !== undefined) putOctal(h, 329, 8, f.devMajor, true);
  if (f.devMinor !== undefined) putOctal(h, 337, 8, f.devMinor, true);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  putOctal(h, 148, 7, sum, true);
  return h;
}

export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A regular-file member (with a GNU long-name member first when the name does not fit), as apk writes it. */
export function tarFile(name: string, data: Buffer, mode: number, mtime: number): Buffer {
  const parts: Buffer[] = [];
  if (Buffer.byteLength(name) > 99) {
    const long = Buffer.concat([Buffer.from(name), Buffer.alloc(1)]);
    // apk declares the name's length without its NUL but writes the NUL too.
    parts.push(tarHeader({ name: '././@LongLink', typeflag: 'L', size: long.length - 1, mode, mtime }));
    parts.push(long, tarPadding(long.length));
  }
  parts.push(
    tarHeader({ name, typeflag: '0', size: data.length, mode, mtime }),
    data,
    tarPadding(data.length),
  );
  return Buffer.concat(parts);
}

/** End-of-archive: two zero blocks. */
export const TAR_END = Buffer.alloc(1024);
