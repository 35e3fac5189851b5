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
import { modinfoDepends, modulesDep } from '../../../images/rootfs/modules.js';
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
});
