import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  extlinuxConf,
  kernelCmdline,
  parseExtlinux,
  rootPartuuid,
} from '../../../images/layout/boot-config.js';
import { isSunxiSpl } from '../../../images/layout/disk.js';
import { derivedSignature, derivedUuid, inputDigest } from '../../../images/layout/identity.js';
import { loadProfile } from '../../../images/profile/load.js';
import { ownershipScript } from '../../../images/layout/ext4.js';
import { modinfoDepends, modulesDep, readModule } from '../../../images/rootfs/modules.js';
import { elfMachine, skipInNodeModules } from '../../../images/stages/firmware.js';

describe('image builder helpers', () => {
  it('names the root partition by disk signature and number', () => {
    expect(rootPartuuid(0x0000abcd, 2)).toBe('0000abcd-02');
  });

  it('writes an extlinux.conf that U-Boot and the boot test read back', async () => {
    const p = await loadProfile('pine64-sopine');
    const append = kernelCmdline(p, 0x1234);
    expect(append).toBe('root=PARTUUID=00001234-02 rootfstype=ext4 rw console=ttyS0,115200 rootwait');
    const text = extlinuxConf(p, { kernel: '/vmlinuz', initrd: '/initramfs', fdt: '/dtbs/x.dtb', append });
    expect(text).toContain(
      '\nLABEL skyminer\n  KERNEL /vmlinuz\n  INITRD /initramfs\n  FDT /dtbs/x.dtb\n  APPEND root=',
    );
    expect(parseExtlinux(text)).toEqual({
      kernel: '/vmlinuz',
      initrd: '/initramfs',
      fdt: '/dtbs/x.dtb',
      append,
    });
    expect(() => parseExtlinux('DEFAULT x\n')).toThrow('extlinux.conf has no entry with a KERNEL line');
  });

  it('derives the same UUID and signature from the same inputs, and others from others', () => {
    const d = inputDigest(['a', 'b']);
    expect(derivedUuid(d, 'root')).toBe(derivedUuid(inputDigest(['a', 'b']), 'root'));
    expect(derivedUuid(d, 'root')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(derivedUuid(d, 'root')).not.toBe(derivedUuid(inputDigest(['a', 'c']), 'root'));
    expect(inputDigest(['ab', 'c'])).not.toBe(inputDigest(['a', 'bc']));
    expect(derivedSignature(d)).toBeGreaterThan(0);
  });

  it('recognises a sunxi SPL by its eGON.BT0 header', () => {
    const spl = Buffer.alloc(64);
    spl.write('eGON.BT0', 4, 'latin1');
    expect(isSunxiSpl(spl)).toBe(true);
    expect(isSunxiSpl(Buffer.alloc(64))).toBe(false);
  });

  it('reads a module dependency list from .modinfo and writes modules.dep', () => {
    const ko = Buffer.from('\x7fELF....\0license=GPL\0depends=jbd2,mbcache,crc16\0name=ext4\0', 'latin1');
    expect(modinfoDepends(ko)).toEqual(['jbd2', 'mbcache', 'crc16']);
    expect(modinfoDepends(Buffer.from('\0depends=\0'))).toEqual([]);
    expect(
      modulesDep([
        { name: 'crc16', path: 'kernel/lib/crc16.ko', depends: [] },
        { name: 'ext4', path: 'kernel/fs/ext4/ext4.ko', depends: ['crc16'] },
      ]),
    ).toBe('kernel/lib/crc16.ko:\nkernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko\n');
    // Every module needed, not only the direct ones: busybox's modprobe loads what the line lists, last first.
    expect(
      modulesDep([
        { name: 'failover', path: 'kernel/net/core/failover.ko', depends: [] },
        { name: 'net_failover', path: 'kernel/drivers/net/net_failover.ko', depends: ['failover'] },
        { name: 'virtio_net', path: 'kernel/drivers/net/virtio_net.ko', depends: ['net_failover'] },
      ]),
    ).toBe(
      'kernel/net/core/failover.ko:\n' +
        'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n' +
        'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n',
    );
  });

  it('reads the machine of an ELF file (64- and 32-bit)', () => {
    const h = Buffer.alloc(20);
    h.write('\x7fELF', 0, 'latin1');
    h[5] = 1;
    h.writeUInt16LE(0xb7, 18);
    expect(elfMachine(h)).toBe(0xb7);
    expect(elfMachine(Buffer.from('#!/bin/sh\n....................'))).toBeUndefined();
  });

  it('keeps only the built addon and the JavaScript of native packages', () => {
    expect(skipInNodeModules('i2c-bus/build/Release/i2c.node')).toBe(false);
    expect(skipInNodeModules('i2c-bus/build/Release/obj.target/i2c/src/i2c.o')).toBe(true);
    expect(skipInNodeModules('i2c-bus/build/Makefile')).toBe(true);
    expect(skipInNodeModules('node-pty/deps/winpty/src/x.cc')).toBe(true);
    expect(skipInNodeModules('node-pty/prebuilds/darwin-arm64/pty.node')).toBe(true);
    expect(skipInNodeModules('node-pty/lib/index.js')).toBe(false);
    expect(skipInNodeModules('zod/v4/index.js')).toBe(false);
    expect(skipInNodeModules('nan/nan.h')).toBe(true);
  });

  it('reads a gzipped module (as Alpine ships them) as the plain module, named without .gz', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modules-'));
    const ko = Buffer.from('\0name=ext4\0depends=jbd2\0');
    await writeFile(join(dir, 'ext4.ko.gz'), gzipSync(ko));
    await writeFile(join(dir, 'bad.ko.gz'), 'not gzip');
    expect(await readModule(dir, 'ext4.ko.gz')).toEqual({ path: 'ext4.ko', data: ko });
    await expect(readModule(dir, 'bad.ko.gz')).rejects.toThrow(/^bad\.ko\.gz: not a gzip file/);
  });

  it('makes device nodes with debugfs in their own directory, then gives them owner and mode', () => {
    const script = ownershipScript(
      [{ path: '/dev/console', kind: 'chardev', mode: 0o600, uid: 0, gid: 5, major: 5, minor: 1 }],
      1_700_000_000,
    );
    expect(script.split('\n').slice(0, 6)).toEqual([
      'cd "/dev"',
      'mknod "console" c 5 1',
      'cd /',
      'sif "/dev/console" uid 0',
      'sif "/dev/console" gid 5',
      'sif "/dev/console" mode 020600',
    ]);
  });
});
