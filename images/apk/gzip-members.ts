import { crc32, inflateRawSync } from 'node:zlib';
import { ApkError } from './errors.js';

/** One gzip member of a concatenation: its exact compressed bytes (what apk signs and hashes) and its content. */
export interface GzipMember {
  start: number;
  end: number;
  data: Buffer;
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/**
 * Splits a file made of concatenated gzip members (an .apk, an APKINDEX.tar.gz) at the member boundaries.
 * Node's gunzip would join them silently; apk's checksums and signatures cover each member's compressed
 * bytes, so the boundaries matter. Every member's CRC and length are checked; anything after the last member
 * or a member cut short is refused.
 */
export function splitGzipMembers(buf: Buffer, subject: string): GzipMember[] {
  const out: GzipMember[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    if (buf.length - pos < 18 || buf[pos] !== 0x1f || buf[pos + 1] !== 0x8b || buf[pos + 2] !== 8) {
      throw new ApkError(subject, `not a gzip stream at byte ${pos} (truncated or corrupt)`);
    }
    const flags = buf[pos + 3]!;
    pos += 10;
    if (flags & FEXTRA) pos += 2 + buf.readUInt16LE(pos);
    if (flags & FNAME) pos = buf.indexOf(0, pos) + 1;
    if (flags & FCOMMENT) pos = buf.indexOf(0, pos) + 1;
    if (flags & FHCRC) pos += 2;
    if (pos <= start || pos > buf.length) throw new ApkError(subject, 'gzip header is truncated');
    let data: Buffer;
    let consumed: number;
    try {
      const r = inflateRawSync(buf.subarray(pos), { info: true }) as unknown as {
        buffer: Buffer;
        engine: { bytesWritten: number };
      };
      data = r.buffer;
      consumed = r.engine.bytesWritten;
    } catch (err) {
      throw new ApkError(subject, `gzip data is corrupt or truncated (${(err as Error).message})`);
    }
    pos += consumed;
    if (buf.length - pos < 8) throw new ApkError(subject, 'gzip stream is truncated');
    if (buf.readUInt32LE(pos) !== crc32(data) || buf.readUInt32LE(pos + 4) !== data.length % 2 ** 32) {
      throw new ApkError(subject, 'gzip CRC or length mismatch');
    }
    pos += 8;
    out.push({ start, end: pos, data });
  }
  if (out.length === 0) throw new ApkError(subject, 'empty file');
  return out;
}
