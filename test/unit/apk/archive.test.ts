import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { splitGzipMembers } from '../../../images/apk/gzip-members.js';
import { formatScriptsTar } from '../../../images/apk/installed-db.js';
import { readTar } from '../../../images/apk/tar-reader.js';
import { TAR_END, tarFile } from '../../../images/apk/tar-writer.js';

describe('tar as apk writes and reads it', () => {
  it('lays out a scripts.tar member the way apk-tools does', () => {
    const h = formatScriptsTar([
      { name: 'busybox-1.0-r0.0a1b.post-install', data: Buffer.from('#!/bin/sh\n'), mtime: 1700000000 },
    ]);
    expect(h.length).toBe(512 + 512 + 1024);
    expect(h.toString('latin1', 100, 108)).toBe('0000755\0');
    expect(h.toString('latin1', 108, 124)).toBe('0000000\x000000000\0');
    expect(h.toString('latin1', 124, 136)).toBe('000000000012'); // size: no NUL, as apk's put_octal
    expect(h.toString('latin1', 136, 148)).toBe(Number(1700000000).toString(8).padStart(12, '0'));
    expect(h.toString('latin1', 156, 157)).toBe('0');
    expect(h.toString('latin1', 257, 265)).toBe('ustar  \0');
    expect(h.toString('latin1', 265, 270)).toBe('root\0');
    expect(h.subarray(1024).every((b) => b === 0)).toBe(true);
  });

  it('reads back what it writes, long names included', () => {
    const name = 'x'.repeat(120);
    const entries = readTar(Buffer.concat([tarFile(name, Buffer.from('abc'), 0o644, 1), TAR_END]), 't');
    expect(entries).toMatchObject([{ name, type: 'file', mode: 0o644 }]);
    expect(entries[0]!.data.toString()).toBe('abc');
  });

  it('refuses a header whose checksum does not add up', () => {
    const t = Buffer.concat([tarFile('a', Buffer.from('abc'), 0o644, 1), TAR_END]);
    t[0] = 'b'.charCodeAt(0);
    expect(() => readTar(t, 'pkg-1.0')).toThrow('pkg-1.0: tar header checksum mismatch at byte 0');
  });

  it('refuses data after the end of the archive', () => {
    const t = Buffer.concat([tarFile('a', Buffer.from('abc'), 0o644, 1), TAR_END, Buffer.from('junk')]);
    expect(() => readTar(t, 'pkg-1.0')).toThrow('data after the end of the tar archive');
  });
});

describe('gzip members', () => {
  it('splits concatenated members at their exact boundaries', () => {
    const a = gzipSync(Buffer.from('signature'));
    const b = gzipSync(Buffer.from('control'));
    const parts = splitGzipMembers(Buffer.concat([a, b]), 'p');
    expect(parts.map((p) => [p.start, p.end, p.data.toString()])).toEqual([
      [0, a.length, 'signature'],
      [a.length, a.length + b.length, 'control'],
    ]);
  });

  it('refuses a member cut short', () => {
    const a = gzipSync(Buffer.from('signature'.repeat(50)));
    expect(() => splitGzipMembers(a.subarray(0, a.length - 4), 'pkg-1.0')).toThrow(/^pkg-1\.0: gzip/);
  });
});
