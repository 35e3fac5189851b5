import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { newcArchive } from '../../../images/rootfs/cpio.js';
import { buildInitramfs } from '../../../images/rootfs/initramfs.js';

describe('initramfs archive', () => {
  it('writes a newc header, name and data padded to 4 bytes', () => {
    const a = newcArchive([{ path: '/init', kind: 'file', mode: 0o755, data: Buffer.from('hi\n') }], 0x10);
    const head = a.subarray(0, 110).toString('latin1');
    expect(head).toBe(
      '070701' +
        '00000001' +
        '000081ed' +
        '00000000' +
        '00000000' +
        '00000001' +
        '00000010' +
        '00000003' +
        '00000000' +
        '00000000' +
        '00000000' +
        '00000000' +
        '00000005' +
        '00000000',
    );
    expect(a.subarray(110, 116).toString('latin1')).toBe('init\0\0');
    expect(a.subarray(116, 120).toString('latin1')).toBe('hi\n\0');
    expect(a.subarray(120, 126).toString('latin1')).toBe('070701');
    expect(a.includes(Buffer.from('TRAILER!!!\0'))).toBe(true);
    expect(a.length % 4).toBe(0);
  });

  it('gives the same bytes for the same files', () => {
    const mods = [{ path: 'kernel/fs/ext4/ext4.ko', data: Buffer.from('ko') }];
    const a = buildInitramfs(Buffer.from('busybox'), mods, 1_700_000_000);
    const b = buildInitramfs(Buffer.from('busybox'), mods, 1_700_000_000);
    expect(a.equals(b)).toBe(true);
    const cpio = gunzipSync(a).toString('latin1');
    expect(cpio).toContain('etc/modules-order\0');
    expect(cpio).toContain('kernel/fs/ext4/ext4.ko\n');
    expect(cpio).toContain('lib/modules/kernel/fs/ext4/ext4.ko\0');
  });
});
