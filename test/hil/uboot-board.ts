// One emulated board booted through Debian's U-Boot (images/emulator/uboot.ts), kept in files between boots: its
// card and its flash outlive QEMU being stopped or killed, as a board's card and flash outlive a power cut. The
// update bundles it is given sit on a second disk (a stick), built from the image's own root: a good one, one
// whose root cannot be mounted, one whose supervisor never starts, and a tampered copy of the small one.
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hashPassword } from '../../firmware/console/password.js';
import { makeBundle, rootOfImage, type RootSource } from '../../images/bundle/make.js';
import { buildImage } from '../../images/build.js';
import { QemuSession } from '../../images/emulator/qemu-session.js';
import { blankFlash, UBOOT_QEMU_ARM64, ubootQemu } from '../../images/emulator/uboot.js';
import { run } from '../../images/lib/tools.js';

export const PROFILE = 'qemu-virt-arm64';
export const CONSOLE_PASSWORD = 'skyminer-console-test';
// The console's prompt, as the last thing on the line: readline may follow it with a cursor move (ESC [ n G).
export const PROMPT = 'skyminer> (?:\\x1b\\[\\d+G)?$';
/** Seconds a trial boot of the never-healthy bundle gets (its /etc/default/skyminer-update). */
export const UNHEALTHY_LIMIT_S = 20;
/** TCG on a busy two-core host: a boot from power-on to the console's password prompt. */
export const BOOT_MS = 300_000;

export const BUNDLES = {
  good: { version: '0.3.0', file: 'good.bundle' },
  unbootable: { version: '0.2.1', file: 'unbootable.bundle' },
  unhealthy: { version: '0.2.2', file: 'unhealthy.bundle' },
  tampered: { version: '0.2.1', file: 'tampered.bundle' },
} as const;

export interface BoardFiles {
  dir: string;
  /** The board's card (a copy of the built image) and its second flash bank. */
  card: string;
  flash: string;
  /** The stick: an ext4 disk holding every bundle, mounted read-only on the board. */
  stick: string;
  bundleBytes: Record<keyof typeof BUNDLES, number>;
  qemu: string;
  firmware: string;
}

async function debugfsWrite(file: string, commands: string[]): Promise<void> {
  const script = `${file}.debugfs`;
  await writeFile(script, commands.join('\n') + '\n');
  await run('debugfs', ['-w', '-f', script, file]);
}

/**
 * A bundle of firmware `version` made from the image's own root (a file of its own, named `<out>.root` in `dir`),
 * with its image-release saying that version and the root edited by `edit` (debugfs commands and whole files).
 */
export async function versionedBundle(
  image: string,
  src: RootSource,
  dir: string,
  version: string,
  key: import('node:crypto').KeyObject,
  out: string,
  epoch: number,
  edit: {
    files?: Record<string, string>;
    commands?: string[];
  } = {},
): Promise<void> {
  const root = join(dir, `${out}.root`);
  await pipeline(
    createReadStream(image, { start: src.offset, end: src.offset + src.bytes - 1 }),
    createWriteStream(root),
  );
  const releaseFile = `${root}.image-release`;
  await run('debugfs', ['-R', `dump /etc/skyminer/image-release ${releaseFile}`, root]);
  const release = (await readFile(releaseFile, 'utf8')).replace(
    /^FIRMWARE_VERSION=.*$/m,
    `FIRMWARE_VERSION=${version}`,
  );
  const files: Record<string, string> = { '/etc/skyminer/image-release': release, ...edit.files };
  const commands: string[] = [...(edit.commands ?? [])];
  for (const [path, text] of Object.entries(files)) {
    const host = join(dir, `${out}${path.replace(/\//g, '_')}`);
    await writeFile(host, text);
    commands.push(`rm ${path}`, `write ${host} ${path}`);
  }
  await debugfsWrite(root, commands);
  await makeBundle({ ...src, file: root, offset: 0, firmware: version }, key, join(dir, 'stick', out), epoch);
  await rm(root);
}

/** The stick: `dir`/stick as an ext4 disk image (`dir`/stick.img) with room for the files of `bytes`. */
export async function stickOf(dir: string, bytes: number[]): Promise<string> {
  const total = bytes.reduce((a, n) => a + n, 0);
  const stick = join(dir, 'stick.img');
  await run('mke2fs', [
    '-q',
    '-t',
    'ext4',
    '-L',
    'bundles',
    '-d',
    join(dir, 'stick'),
    stick,
    `${Math.ceil((total * 1.2) / 1048576) + 16}M`,
  ]);
  return stick;
}

/**
 * Builds the image once (signed with a key of this run), the board's card and flash, and the stick of bundles.
 * `skywire: false` leaves Skywire out: a smaller root, installed sooner, where the update itself is what is tried.
 */
export async function prepareBoard(
  repo: string,
  dir: string,
  o: { skywire?: boolean } = {},
): Promise<BoardFiles> {
  const qemu = await ubootQemu(repo);
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyFile = join(dir, 'signing.pem');
  await writeFile(keyFile, key.export({ format: 'pem', type: 'pkcs8' }));
  const epoch = 1_700_000_000;
  const built = await buildImage({
    profile: PROFILE,
    repo,
    outDir: join(dir, 'out'),
    cacheDir: join(repo, '.cache', 'images'),
    // scrypt with a small N: TCG is slow.
    consolePasswordHash: await hashPassword(CONSOLE_PASSWORD, { N: 4096, r: 8, p: 1 }),
    signingKey: keyFile,
    ...(o.skywire === false ? { skywire: false } : {}),
    compress: false,
    epoch,
  });
  const src = await rootOfImage(built.image);
  await mkdir(join(dir, 'stick'));
  await versionedBundle(built.image, src, dir, BUNDLES.good.version, key, BUNDLES.good.file, epoch, {});
  // A root of 8 MiB that is no filesystem at all (signed like any other): the initramfs cannot mount it. Small,
  // so the test spends its time on U-Boot's fallback rather than on writing a root that cannot boot anyway.
  const unbootable = join(dir, `${BUNDLES.unbootable.file}.root`);
  await writeFile(unbootable, Buffer.alloc(8 << 20, 0x5a));
  await makeBundle(
    { ...src, file: unbootable, offset: 0, bytes: 8 << 20, firmware: BUNDLES.unbootable.version },
    key,
    join(dir, 'stick', BUNDLES.unbootable.file),
    epoch,
  );
  // Boots, but its supervisor is never started: a manager that never becomes healthy, with a short limit.
  await versionedBundle(
    built.image,
    src,
    dir,
    BUNDLES.unhealthy.version,
    key,
    BUNDLES.unhealthy.file,
    epoch,
    {
      commands: ['mkdir /etc/default', 'rm /etc/runlevels/default/skyminer-supervisor'],
      files: { '/etc/default/skyminer-update': `TRIAL_LIMIT_S=${UNHEALTHY_LIMIT_S}\n` },
    },
  );
  // One byte of a bundle's payload changed, far into it: refused only once the payload is hashed. The small
  // bundle's, so the refusal costs seconds of TCG rather than minutes.
  const tampered = join(dir, 'stick', BUNDLES.tampered.file);
  await copyFile(join(dir, 'stick', BUNDLES.unbootable.file), tampered);
  const size = (await stat(tampered)).size;
  const fh = await open(tampered, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, Math.floor(size * 0.9));
  b[0] = b[0]! ^ 0x40;
  await fh.write(b, 0, 1, Math.floor(size * 0.9));
  await fh.close();
  const bundleBytes = Object.fromEntries(
    await Promise.all(
      Object.entries(BUNDLES).map(async ([k, v]) => [k, (await stat(join(dir, 'stick', v.file))).size]),
    ),
  ) as Record<keyof typeof BUNDLES, number>;
  const stick = await stickOf(dir, Object.values(bundleBytes));
  const card = join(dir, 'card.img');
  await run('cp', ['--sparse=always', built.image, card]);
  const flash = join(dir, 'flash.img');
  await blankFlash(flash);
  return { dir, card, flash, stick, bundleBytes, qemu, firmware: src.firmware };
}

/** The board: power it on (a QEMU through U-Boot on its card and flash), log in on its console, pull its plug. */
export class UbootBoard {
  vm: QemuSession | undefined;
  constructor(readonly files: BoardFiles) {}

  async powerOn(): Promise<QemuSession> {
    this.vm = await QemuSession.start({
      image: this.files.card,
      arch: 'aarch64',
      snapshot: false,
      network: 'isolated',
      uboot: { bios: UBOOT_QEMU_ARM64, flash: this.files.flash, qemu: this.files.qemu },
      extraDrives: [`file=${this.files.stick},format=raw,if=virtio,readonly=on`],
    });
    return this.vm;
  }

  /** Stops U-Boot's countdown and runs `command` at its prompt (then boots, if the command says so). */
  async atUbootPrompt(command: string): Promise<void> {
    const vm = this.vm!;
    await vm.expect(/Hit any key to stop autoboot/, 60_000);
    vm.send(' ');
    await vm.expect(/=> $/, 10_000);
    vm.send(`${command}\n`);
  }

  /** Waits for U-Boot's boot script to name the slot it boots; returns it. */
  async bootedSlot(timeoutMs = 120_000): Promise<string> {
    return (await this.vm!.expect(/skyminer: booting root slot ([AB])/, timeoutMs))[1]!;
  }

  /** From the console's password prompt to a quiet root shell. */
  async login(): Promise<void> {
    const vm = this.vm!;
    await vm.expect(/Skyminer console\r*\npassword: $/, BOOT_MS);
    vm.send(`${CONSOLE_PASSWORD}\r`);
    await vm.expect(new RegExp(PROMPT), 60_000);
    vm.send('shell\r');
    await vm.expect(/skyminer-1:~# /, 60_000);
    await vm.quietShell(120_000);
    await vm.shell('mkdir -p /mnt/stick; mount -o ro -t ext4 /dev/vdb /mnt/stick', 120_000);
  }

  /** `skyminer update status`, as the board prints it. */
  async status(): Promise<string> {
    // A Node start under TCG: tens of seconds on a busy host.
    return this.vm!.shell('skyminer update status 2>&1', 180_000);
  }

  async kill(): Promise<void> {
    await this.vm?.kill();
    this.vm = undefined;
  }

  async stop(): Promise<void> {
    await this.vm?.stop();
    this.vm = undefined;
  }
}

export function bundlePath(name: keyof typeof BUNDLES): string {
  return `/mnt/stick/${BUNDLES[name].file}`;
}
