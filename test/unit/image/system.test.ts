import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../firmware/config/load.js';
import { hashPassword } from '../../../firmware/console/password.js';
import { loadProfile } from '../../../images/profile/load.js';
import { StagingTree } from '../../../images/rootfs/staging.js';
import {
  bakedConfigText,
  checkBoxSecret,
  checkConsolePasswordHash,
  checkPasswordHash,
  checkSshKey,
  imageRelease,
  runlevels,
  stageSystem,
} from '../../../images/stages/system.js';

const SECRET = 'ab'.repeat(32);

describe('baked system files', () => {
  it('refuses a plain password where a crypt hash is expected', () => {
    expect(() => checkPasswordHash('hunter2')).toThrow('--password-hash: expected a crypt(3) hash');
    expect(checkPasswordHash('$6$salt$abcdefABCDEF./0123')).toBe('$6$salt$abcdefABCDEF./0123');
    expect(() => checkPasswordHash('$6$salt$abc:def')).toThrow('--password-hash');
  });

  it("takes the console's own scrypt hash line for the console password, never the password itself", async () => {
    const hash = await hashPassword('correct horse', { N: 1024, r: 8, p: 1 });
    expect(checkConsolePasswordHash(`${hash}\n`)).toBe(hash);
    expect(() => checkConsolePasswordHash('correct horse')).toThrow(
      '--console-password-hash: expected a scrypt$N$r$p$salt$key line',
    );
    expect(() => checkConsolePasswordHash('$6$salt$abcdefABCDEF./0123')).toThrow('--console-password-hash');
  });

  it('points the keys at the state directory, where first boot and the agent create them', async () => {
    const c = parseConfigText(bakedConfigText(await loadProfile('qemu-virt-arm64')), 'skyminer.conf');
    expect(c.auth).toEqual({
      box_secret: '/var/lib/skyminer/box.secret',
      board_key: '/var/lib/skyminer/board.key',
      attach_key: '/var/lib/skyminer/attach_ed25519',
      authorized_keys: '/root/.ssh/authorized_keys',
      join_window_s: 150,
    });
  });

  it('bakes a given box secret where the config points, readable by root only', async () => {
    const tree = new StagingTree();
    const profile = await loadProfile('qemu-virt-arm64');
    const base = {
      profile,
      init: 'busybox',
      firmwareVersion: '1.2.3',
      sshKeys: [],
      hasConsole: true,
    } as const;
    await stageSystem(tree, { ...base, overlayDir: 'images/overlay', boxSecret: SECRET });
    expect(tree.get('/var/lib/skyminer/box.secret')).toMatchObject({
      kind: 'file',
      data: `${SECRET}\n`,
      mode: 0o600,
      uid: 0,
      gid: 0,
    });
    const without = new StagingTree();
    await stageSystem(without, { ...base, overlayDir: 'images/overlay' });
    expect(without.get('/var/lib/skyminer/box.secret')).toBeUndefined();
  });

  it('tells skyminer update where U-Boot keeps its environment: FAT on a sunxi board, flash on QEMU virt, none without U-Boot', async () => {
    const stage = async (name: string) => {
      const tree = new StagingTree();
      const profile = await loadProfile(name);
      await stageSystem(tree, {
        profile,
        init: 'busybox',
        firmwareVersion: '1.2.3',
        sshKeys: [],
        hasConsole: true,
        overlayDir: 'images/overlay',
      });
      return tree.get('/etc/fw_env.config');
    };
    expect(await stage('pine64-sopine')).toMatchObject({ data: '/boot/uboot.env 0x0 0x20000\n' });
    // U-Boot as QEMU virt's firmware keeps it on the machine's flash, reached through /dev/mem.
    expect(await stage('qemu-virt-arm64')).toMatchObject({ data: '/dev/mem 0x4000000 0x40000 0x40000\n' });
    expect(await stage('qemu-virt-armv7')).toBeUndefined();
  });

  it('takes a box secret of 64 hex digits and names the file of anything else', () => {
    expect(checkBoxSecret(`${SECRET.toUpperCase()}\n`, 'box.secret')).toBe(SECRET);
    expect(() => checkBoxSecret('hunter2', '/tmp/box.secret')).toThrow(
      '--box-secret: /tmp/box.secret must hold 64 hex digits (32 random bytes)',
    );
    expect(() => checkBoxSecret(`${SECRET}00`, 'box.secret')).toThrow('--box-secret');
  });

  it('accepts one OpenSSH public key line and refuses anything else', () => {
    expect(checkSshKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB owner@laptop\n')).toBe(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB owner@laptop',
    );
    expect(() => checkSshKey('-----BEGIN OPENSSH PRIVATE KEY-----')).toThrow(
      '--ssh-key: expected one OpenSSH public key line',
    );
  });

  it('bakes a device config the firmware reads, [box] first so the first boot can add the slot', async () => {
    const p = await loadProfile('pine64-sopine');
    const text = bakedConfigText(p);
    expect(text.split('\n').find((l) => l.startsWith('['))).toBe('[box]');
    const withSlot = text.replace(/^\[box\]$/m, '[box]\nslot = 3');
    const c = parseConfigText(withSlot, 'skyminer.conf');
    expect(c.box.slot).toBe(3);
    expect(c.box.boards).toBe(8);
    expect(c.gpio.boards).toHaveLength(7);
  });

  it('records what the scripts on the device need to know in image-release', async () => {
    const p = await loadProfile('qemu-virt-arm64');
    const text = imageRelease({
      profile: p,
      init: 'busybox',
      firmwareVersion: '1.2.3',
      sshKeys: [],
      hasConsole: false,
      overlayDir: '',
    });
    expect(text).toBe(
      'PROFILE=qemu-virt-arm64\nARCH=aarch64\nFIRMWARE_VERSION=1.2.3\nCONSOLE=ttyAMA0\nBAUD=115200\nWATCHDOG_MODULE=i6300esb\nWATCHDOG_TIMEOUT=10\nSKYMINER_CONSOLE=no\n',
    );
  });

  it('enables the supervisor and the agent in the default runlevel of both init systems', () => {
    for (const init of ['busybox', 'openrc'] as const) {
      expect(runlevels(init).default).toEqual(
        expect.arrayContaining(['skyminer-agent', 'skyminer-supervisor']),
      );
      expect(runlevels(init).boot).toContain('skyminer-firstboot');
    }
    expect(runlevels('openrc').default).toContain('chronyd');
  });
});
