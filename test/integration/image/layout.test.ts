// The card layout of every board profile, built small: the real bootloader from its pinned package, the
// system files, and a few firmware stand-in files instead of the whole root (the emulator build covers that).
import { execFileSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../images/build.js';
import { inspectImage } from '../../../images/inspect.js';
import { DIRECT_BOOT_CONF, extlinuxConf, kernelCmdline } from '../../../images/layout/boot-config.js';
import { debugfsRequest } from '../../../images/layout/ext4.js';
import { inputDigest } from '../../../images/layout/identity.js';
import { assembleImage, signatureOf } from '../../../images/layout/image.js';
import { listProfiles, loadProfile } from '../../../images/profile/load.js';
import type { Profile } from '../../../images/profile/schema.js';
import { StagingTree } from '../../../images/rootfs/staging.js';
import { BootloaderMissing, resolveBootloader } from '../../../images/stages/bootloader.js';
import { loadLock } from '../../../images/lib/inputs.js';
import { stageSystem } from '../../../images/stages/system.js';

const repo = repoRoot();
const cacheDir = join(repo, '.cache', 'images');
let scratch: string;
let hostFile: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'image-layout-'));
  hostFile = join(scratch, 'owned-by-4242');
  await writeFile(hostFile, 'a file the build host owns as uid 4242\n');
  await chown(hostFile, 4242, 4242);
});

/** A synthetic SPL: what an owner would pass with --bootloader for a board no package covers. */
async function suppliedSpl(): Promise<string> {
  const spl = Buffer.alloc(40 * 1024, 0x5a);
  spl.writeUInt32LE(0xea000016, 0);
  spl.write('eGON.BT0', 4, 'latin1');
  const path = join(scratch, 'u-boot-sunxi-with-spl.bin');
  await writeFile(path, spl);
  return path;
}

async function smallImage(profile: Profile, bootloaderFile?: string, boxSecret?: string) {
  const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
  const bootloader = await resolveBootloader(profile, {
    ...(bootloaderFile ? { supplied: bootloaderFile } : {}),
    lock,
    cacheDir,
    log: () => undefined,
  });
  const tree = new StagingTree();
  await stageSystem(tree, {
    profile,
    init: profile.rootfs === 'alpine' ? 'openrc' : 'busybox',
    firmwareVersion: '0.0.0-test',
    sshKeys: [],
    ...(boxSecret ? { boxSecret } : {}),
    hasConsole: false,
    overlayDir: join(repo, 'images', 'overlay'),
  });
  tree.file('/usr/lib/skyminer/package.json', '{"name":"skyminer-firmware","version":"0.0.0-test"}\n');
  tree.copy('/usr/lib/skyminer/host-owned', hostFile, 40);
  const digest = inputDigest([profile.name, 'layout-test']);
  const signature = signatureOf(digest);
  const dir = join(scratch, profile.name);
  await mkdir(dir, { recursive: true });
  const files = [
    ['vmlinuz', 'kernel stand-in\n'],
    ['initramfs', 'initramfs stand-in\n'],
    [
      'extlinux.conf',
      extlinuxConf(profile, {
        kernel: '/vmlinuz',
        initrd: '/initramfs',
        ...(profile.kernel.devicetree ? { fdt: '/dtbs/board.dtb' } : {}),
        append: kernelCmdline(profile, signature),
      }),
    ],
  ] as const;
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  const image = join(scratch, `${profile.name}.img`);
  await assembleImage({
    out: image,
    workDir: join(dir, 'work'),
    epoch: 1_700_000_000,
    digest,
    firstPartitionMib: profile.layout.first_partition_mib,
    bootMib: 34,
    rootFreeMib: 8,
    // Small slots: the test reads whole images; the profiles' slot size is checked where they are loaded.
    slotMib: 64,
    dataMib: profile.layout.data_mib,
    dataDir: '/var/lib/skyminer',
    bootFiles: [
      { path: 'vmlinuz', source: join(dir, 'vmlinuz') },
      { path: 'initramfs', source: join(dir, 'initramfs') },
      { path: DIRECT_BOOT_CONF, source: join(dir, 'extlinux.conf') },
    ],
    root: tree,
    ...(bootloader ? { bootloader: bootloader.parts } : {}),
  });
  return { image, signature, bootloader };
}

describe('card layout of every profile', async () => {
  const names = await listProfiles();

  it.each(names)(
    '%s: MBR, bootloader at its offset, boot config, ext4 root owned by root',
    async (name) => {
      const profile = await loadProfile(name);
      const supplied =
        profile.bootloader.kind === 'sunxi' && !profile.bootloader.input ? await suppliedSpl() : undefined;
      const { image, signature, bootloader } = await smallImage(profile, supplied);

      // The partition table as an independent reader (sfdisk) sees it.
      const table = JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })) as {
        partitiontable: {
          label: string;
          id: string;
          partitions: { start: number; size: number; type: string; bootable?: boolean }[];
        };
      };
      expect(table.partitiontable.label).toBe('dos');
      expect(table.partitiontable.id).toBe(`0x${signature.toString(16).padStart(8, '0')}`);
      const [boot, root, slotB, data] = table.partitiontable.partitions;
      expect(boot).toMatchObject({
        start: profile.layout.first_partition_mib * 2048,
        type: 'c',
        bootable: true,
      });
      expect(root).toMatchObject({ type: '83', size: 64 * 2048 });
      expect(slotB).toMatchObject({ type: '83', size: 64 * 2048 });
      expect(data).toMatchObject({ type: '83', size: profile.layout.data_mib * 2048 });

      const report = await inspectImage(image);
      const head = (await readFile(image)).subarray(0, profile.layout.first_partition_mib << 20);
      if (profile.bootloader.kind === 'sunxi') {
        expect(report.bootloader).toMatchObject({ kind: 'sunxi-spl', offset: 8192 });
        for (const part of bootloader!.parts)
          expect(head.subarray(part.offset, part.offset + part.data.length).equals(part.data)).toBe(true);
        if (profile.bootloader.fit_path) expect(report.bootloader).toMatchObject({ fitOffset: 40960 });
      } else {
        expect(report.bootloader).toEqual({ kind: 'none' });
        expect(head.subarray(512).every((b) => b === 0)).toBe(true);
      }

      expect(report.bootFiles).toEqual(['initramfs', DIRECT_BOOT_CONF, 'vmlinuz']);
      expect(report.bootEntry.append).toBe(
        `root=PARTUUID=${signature.toString(16).padStart(8, '0')}-02 rootfstype=ext4 rw console=${profile.console.device},${profile.console.baud} rootwait`,
      );
      expect(report.bootEntry.fdt !== undefined).toBe(profile.kernel.devicetree !== undefined);

      // ext4 that U-Boot 2023.01 reads: none of the features it refuses.
      expect(report.root.features).toEqual(
        expect.arrayContaining(['extent', 'metadata_csum', '64bit', 'flex_bg']),
      );
      for (const f of [
        'metadata_csum_seed',
        'orphan_file',
        'large_dir',
        'huge_file',
        'inline_data',
        'encrypt',
      ])
        expect(report.root.features).not.toContain(f);
      expect(report.root.label).toBe('skyroot');

      expect(report.root.services.default).toEqual(
        profile.rootfs === 'alpine'
          ? ['chronyd', 'dropbear', 'skyminer-agent', 'skyminer-supervisor', 'skyminer-update']
          : ['skyminer-agent', 'skyminer-supervisor', 'skyminer-update'],
      );
      expect(report.root.services.boot).toContain('skyminer-firstboot');
      expect(report.root.rootPassword).toBe('locked');
      // No password in the image: the first person at the serial console chooses one.
      expect(report.root.consolePassword).toBe('unset');
      expect(report.root.sshKeys).toBe(0);
      expect(report.root.boxSecret).toBe('none');
      expect(report.slotB).toEqual({ state: 'empty' });
      expect(report.data?.label).toBe('skydata');

      const offset = root!.start * 512;
      const stat = (p: string) => debugfsRequest(image, offset, `stat ${p}`);
      expect(await stat('/usr/lib/skyminer/host-owned')).toMatch(/User:\s+0\s+Group:\s+0/);
      expect(await stat('/etc/shadow')).toMatch(/Mode:\s+0600/);
      // The state lives on the data partition, which outlives updates; the root keeps only its mount point.
      const dataOffset = data!.start * 512;
      const dataStat = (p: string) => debugfsRequest(image, dataOffset, `stat ${p}`);
      expect(await debugfsRequest(image, dataOffset, 'ls -p /')).not.toContain('console-password');
      expect(await dataStat('/')).toMatch(/Mode:\s+0700/);
      expect(await debugfsRequest(image, offset, 'ls -p /var/lib/skyminer')).not.toContain(
        'console-password',
      );
      expect(await stat('/var/lib/skyminer')).toMatch(/Mode:\s+0700/);
      expect(await stat('/usr/libexec/skyminer/first-boot')).toMatch(/Mode:\s+0755/);
      expect(await stat('/tmp')).toMatch(/Mode:\s+01777/);
      expect(await stat('/etc/inittab')).toMatch(/mtime: 0x6553f100/);
      const inittab = await debugfsRequest(image, offset, 'cat /etc/inittab');
      expect(inittab).toContain(
        `${profile.console.device}::respawn:/usr/libexec/skyminer/serial-console ${profile.console.device} ${profile.console.baud}`,
      );
    },
    90_000,
  );

  it('asks for a board bootloader that no reachable package has, by file name and U-Boot config', async () => {
    const profile = await loadProfile('orangepi-prime');
    const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
    const attempt = resolveBootloader(profile, { lock, cacheDir, log: () => undefined });
    await expect(attempt).rejects.toThrow(BootloaderMissing);
    await expect(attempt).rejects.toThrow(
      "orangepi-prime: no reachable package has this board's bootloader; build u-boot-sunxi-with-spl.bin from U-Boot's orangepi_prime_defconfig and pass it with --bootloader u-boot-sunxi-with-spl.bin",
    );
  });

  it('refuses a supplied bootloader that is not a sunxi SPL', async () => {
    const profile = await loadProfile('orangepi-prime');
    const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
    const wrong = join(scratch, 'not-an-spl.bin');
    await writeFile(wrong, Buffer.alloc(1024));
    await expect(
      resolveBootloader(profile, { supplied: wrong, lock, cacheDir, log: () => undefined }),
    ).rejects.toThrow(
      `orangepi-prime: supplied file ${wrong} is not a sunxi bootloader (no eGON.BT0 header at byte 4)`,
    );
  });

  it('carries a box secret given at build time, root-only, so every board of that box enrols at once', async () => {
    const profile = await loadProfile('pine64-sopine');
    const { image } = await smallImage(profile, undefined, 'cd'.repeat(32));
    const report = await inspectImage(image);
    expect(report.root.boxSecret).toBe('baked');
    const offset = report.mbr.partitions[3]!.start * 512;
    expect(await debugfsRequest(image, offset, 'cat /box.secret')).toBe(`${'cd'.repeat(32)}\n`);
    expect(await debugfsRequest(image, offset, 'stat /box.secret')).toMatch(
      /Mode:\s+0600[\s\S]*User:\s+0\s+Group:\s+0/,
    );
  });

  it('gives the same bytes for the same inputs', async () => {
    const profile = await loadProfile('pine64-sopine');
    const a = await smallImage(profile);
    const first = await readFile(a.image);
    const b = await smallImage(profile);
    expect((await readFile(b.image)).equals(first)).toBe(true);
    // Two builds of every partition: a margin for a loaded two-core machine.
  }, 90_000);
});
