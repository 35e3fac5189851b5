// `skyminer-image build`: one profile to a card image, its compressed copy, SHA256SUMS and a manifest.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyId, loadSigningKey, publicKeyPem, UPDATE_KEYS_DIR } from '../firmware/update/keys.js';
import { makeBundle, rootOfImage, type MadeBundle } from './bundle/make.js';
import { DIRECT_BOOT_CONF, extlinuxConf, kernelCmdline } from './layout/boot-config.js';
import { inputDigest } from './layout/identity.js';
import { assembleImage, signatureOf } from './layout/image.js';
import { filterFile, run } from './lib/tools.js';
import { loadProfile, ProfileError } from './profile/load.js';
import type { Profile } from './profile/schema.js';
import { DEFAULT_ALPINE_REPOSITORIES, rootfsSource } from './rootfs/alpine.js';
import { DebianPartsSource } from './rootfs/debian-parts.js';
import { buildInitramfs } from './rootfs/initramfs.js';
import { bootableKernel } from './rootfs/kernel-image.js';
import {
  loadModuleTree,
  missingRootModules,
  moduleClosure,
  modulesDep,
  readModule,
} from './rootfs/modules.js';
import { ROOT_FEATURES } from './layout/ext4.js';
import type { PackageRecord } from './rootfs/source.js';
import { StagingTree } from './rootfs/staging.js';
import { bootScriptText, scriptImage } from './stages/boot-script.js';
import { resolveBootloader } from './stages/bootloader.js';
import {
  imageNodeVersion,
  nodeHeadersFor,
  stageFirmware,
  targetNativeAddon,
  targetNodeModules,
} from './stages/firmware.js';
import { loadLock, sha256File, type Input } from './lib/inputs.js';
import { stageSkywire, type SkywireBuild } from './stages/skywire.js';
import {
  bakedConfig,
  checkBoxSecret,
  checkConsolePasswordHash,
  checkPasswordHash,
  checkSshKey,
  OptionError,
  runlevels,
  stageSystem,
} from './stages/system.js';

export interface BuildOptions {
  profile: string;
  /** The repository (package.json, package-lock.json, dist/). */
  repo: string;
  outDir: string;
  cacheDir: string;
  bootloader?: string;
  passwordHash?: string;
  /** The console's password as `hashPassword` stores it; absent: the console stays locked (`!`). */
  consolePasswordHash?: string;
  sshKeys?: string[];
  /** A file holding the box secret to bake in (an image for one box); absent: the manager draws one. */
  boxSecretFile?: string;
  /** Write the .img.xz copy (the boot test skips it to save time). */
  compress?: boolean;
  /** Alpine repositories for the boards' root (directories or URLs); default: the pinned branch's mirror. */
  alpineRepositories?: readonly string[];
  /** Keys the Alpine indexes and packages are checked against; default: Alpine's release keys (images/apk/keys). */
  alpineKeysDir?: string;
  /**
   * The Ed25519 key (PEM) that signs this firmware's updates: its public half goes into the image, and an update
   * bundle of the image's root is written beside it. Absent: no bundle, and the image trusts no update key.
   */
  signingKey?: string;
  /** Build Skywire into the image (default); false leaves it out, for tests of other parts. */
  skywire?: boolean;
  /** The Skywire source archive (file or URL) to use instead of the cache and mirrors; else SKYWIRE_SOURCE. */
  skywireSource?: string;
  /** A services file (`services-config.json`) for the visors instead of the source's: a private Skywire network. */
  skywireServices?: string;
  /** Source date; else SOURCE_DATE_EPOCH, else the last commit's time. */
  epoch?: number;
  log?: (message: string) => void;
  /** How far the current stage got (0 to 1) where that is known, for a terminal's live line. */
  progress?: (fraction: number, detail: string) => void;
}

export interface BuildResult {
  profile: Profile;
  image: string;
  compressed?: string;
  manifest: string;
  bundle?: string;
  bundleBytes?: number;
  sha256: string;
  sizeBytes: number;
  compressedBytes?: number;
  /** Whole build, and the part of it spent compressing. */
  seconds: number;
  compressSeconds: number;
}

export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'images')) ? join(here, '..', '..') : join(here, '..');
}

async function sourceDate(repo: string, given?: number): Promise<number> {
  if (given !== undefined) return given;
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env && /^\d+$/.test(env)) return Number(env);
  const { stdout } = await run('git', ['log', '-1', '--format=%ct'], { cwd: repo }).catch(() => ({
    stdout: '',
  }));
  if (/^\d+$/.test(stdout.trim())) return Number(stdout.trim());
  throw new Error('no source date: set SOURCE_DATE_EPOCH (the build is not in a git checkout)');
}

async function treeDigest(tree: StagingTree): Promise<string> {
  const h = createHash('sha256');
  for (const [path, e] of tree.list()) {
    h.update(`${path}\0${e.kind}\0${e.mode}\0${e.uid}\0${e.gid}\0`);
    if (e.kind === 'symlink') h.update(e.target);
    else if (e.kind === 'node') h.update(`${e.node}\0${e.major}\0${e.minor}`);
    else if (e.kind === 'file')
      h.update(
        'source' in e ? await sha256File(e.source) : createHash('sha256').update(e.data).digest('hex'),
      );
    h.update('\n');
  }
  return h.digest('hex');
}

function inputChecksum(i: Input): string {
  if (i.kind === 'source') return `tar-sha256:${i.tar_sha256}`;
  return i.kind === 'deb' ? `sha256:${i.sha256}` : i.integrity;
}

export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const t0 = performance.now();
  const log = (m: string) =>
    (o.log ?? (() => undefined))(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}`);
  const profile = await loadProfile(o.profile);
  if (profile.unbuildable) throw new ProfileError(`${profile.name}: ${profile.unbuildable}`);
  const passwordHash = o.passwordHash === undefined ? undefined : checkPasswordHash(o.passwordHash);
  const sshKeys = (o.sshKeys ?? []).map(checkSshKey);
  const consolePasswordHash =
    o.consolePasswordHash === undefined ? undefined : checkConsolePasswordHash(o.consolePasswordHash);
  const boxSecret =
    o.boxSecretFile === undefined
      ? undefined
      : checkBoxSecret(
          await readFile(o.boxSecretFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
            throw new OptionError(
              `--box-secret: cannot read ${o.boxSecretFile} (${err.code ?? err.message})`,
            );
          }),
          o.boxSecretFile,
        );
  const lock = await loadLock(join(o.repo, 'images', 'inputs.lock.json'));
  const bootloader = await resolveBootloader(profile, {
    ...(o.bootloader ? { supplied: o.bootloader } : {}),
    lock,
    cacheDir: o.cacheDir,
    log,
  });
  const epoch = await sourceDate(o.repo, o.epoch);
  const signingKey = o.signingKey === undefined ? undefined : await loadSigningKey(o.signingKey);

  // Scratch space of this build only, so that two builds (of one profile or two) never share it.
  await mkdir(join(o.cacheDir, 'work'), { recursive: true });
  const scratch = await mkdtemp(join(o.cacheDir, 'work', `${profile.name}-`));
  const ctx = {
    profile,
    lock,
    cacheDir: o.cacheDir,
    workDir: scratch,
    alpineRepositories: o.alpineRepositories ?? DEFAULT_ALPINE_REPOSITORIES,
    alpineKeysDir: o.alpineKeysDir ?? join(o.repo, 'images', 'apk', 'keys'),
    log,
  };
  log(`${profile.name}: base system (${profile.rootfs})`);
  const tree = new StagingTree();
  const base = await rootfsSource(profile.rootfs, () => new DebianPartsSource())
    .populate(tree, ctx)
    .catch(async (err: unknown) => {
      // The usual failure (no mirror, a missing package) should not leave a scratch directory behind.
      await rm(scratch, { recursive: true, force: true });
      throw err;
    });

  log('firmware and native addons');
  // The addons are built against the headers of the Node the image carries: Alpine's nodejs on the boards (the
  // emulator profiles' official Node 20 builds share the build host's Node 20 ABI, whose headers serve).
  const headers =
    base.libc === 'musl'
      ? await nodeHeadersFor(imageNodeVersion(base.packages), lock, o.cacheDir, log)
      : undefined;
  if (headers) log(`native addons against the headers of Node ${headers.version} (${headers.input})`);
  const nodeModules = await targetNodeModules(o.repo, profile, base.libc, lock, o.cacheDir, log, headers);
  const nativeAddon = await targetNativeAddon(o.repo, profile, base.libc, lock, o.cacheDir, log, headers);
  const fw = await stageFirmware(tree, o.repo, nodeModules, nativeAddon);
  let skywire: SkywireBuild | undefined;
  if (o.skywire !== false) {
    const source = o.skywireSource ?? process.env.SKYWIRE_SOURCE;
    skywire = await stageSkywire(tree, profile, {
      repo: o.repo,
      lock,
      cacheDir: o.cacheDir,
      ...(source ? { source } : {}),
      ...(o.skywireServices ? { services: o.skywireServices } : {}),
      log,
    });
    log(`skywire ${skywire.version} (${skywire.goarch})${skywire.cached ? ' from the cache' : ''}`);
  }
  await stageSystem(tree, {
    profile,
    init: base.init,
    firmwareVersion: fw.version,
    ...(passwordHash ? { passwordHash } : {}),
    ...(consolePasswordHash ? { consolePasswordHash } : {}),
    sshKeys,
    ...(boxSecret ? { boxSecret } : {}),
    hasConsole: fw.hasConsole,
    overlayDir: join(o.repo, 'images', 'overlay'),
  });
  if (signingKey) tree.file(`${UPDATE_KEYS_DIR}/${keyId(signingKey)}.pem`, publicKeyPem(signingKey));

  if (base.init === 'openrc') {
    // A runlevel link to a service no package installed would only show at boot, as a service that is not there.
    const missing = [...new Set(Object.values(runlevels('openrc')).flat())].filter(
      (name) => !tree.get(`/etc/init.d/${name}`),
    );
    if (missing.length)
      throw new Error(
        `${profile.name}: no OpenRC service ${missing.join(', ')} in /etc/init.d of the root, though its runlevels enable them`,
      );
  }

  log(`kernel ${base.kernel.version}: modules and initramfs`);
  const k = base.kernel;
  const modules = await loadModuleTree(k.modulesDir, k.version);
  // Resolved in either case, so that a module the profile names but the kernel lacks stops the build.
  const rootMods = await moduleClosure(modules, [
    ...profile.kernel.root_modules,
    ...profile.kernel.boot_modules,
  ]);
  if (!k.modulesInRoot) {
    // Only the modules the profile names, with a modules.dep of their own (the package has none).
    for (const m of rootMods) {
      const st = await stat(join(k.modulesDir, m.path));
      tree.copy(`/lib/modules/${k.version}/${m.path}`, join(k.modulesDir, m.path), st.size);
    }
    tree.file(`/lib/modules/${k.version}/modules.dep`, modulesDep(rootMods));
  }
  const initMods = await moduleClosure(modules, profile.kernel.initramfs_modules);
  const unmountable = await missingRootModules(modules, initMods, ROOT_FEATURES);
  if (unmountable) throw new Error(`${profile.name}: ${unmountable}`);
  const initramfs = buildInitramfs(
    await readFile(base.busybox),
    await Promise.all(initMods.map((m) => readModule(k.modulesDir, m.path))),
    epoch,
  );

  const work = join(scratch, 'image');
  const bootDir = join(scratch, 'boot');
  await mkdir(bootDir, { recursive: true });
  await writeFile(join(bootDir, 'initramfs'), initramfs);
  // U-Boot boots the raw arm64 Image (booti) or a zImage (bootz); Alpine's aarch64 kernel is an EFI zboot image.
  const kernel = bootableKernel(
    await readFile(k.image),
    profile.arch,
    profile.bootloader.kind === 'none' ? 'qemu' : 'u-boot',
    `${profile.name}: kernel ${profile.kernel.image}`,
  );
  log(`kernel for the boot partition: ${kernel.format}`);
  await writeFile(join(bootDir, 'vmlinuz'), kernel.data);

  log('digest of every input');
  const profileText = await readFile(join(o.repo, 'images', 'boards', `${profile.name}.toml`), 'utf8').catch(
    () => JSON.stringify(profile),
  );
  const digest = inputDigest([
    profileText,
    await treeDigest(tree),
    createHash('sha256').update(kernel.data).digest('hex'),
    createHash('sha256').update(initramfs).digest('hex'),
    bootloader
      ? bootloader.parts
          .map((b) => `${b.offset}:${createHash('sha256').update(b.data).digest('hex')}`)
          .join(',')
      : 'no bootloader',
    String(epoch),
  ]);
  const signature = signatureOf(digest);
  const bootFiles = [
    { path: 'vmlinuz', source: join(bootDir, 'vmlinuz') },
    { path: 'initramfs', source: join(bootDir, 'initramfs') },
  ];
  let fdt: string | undefined;
  if (k.devicetree) {
    fdt = `dtbs/${k.devicetree.split('/').pop()!}`;
    bootFiles.push({ path: fdt, source: k.devicetree });
  }
  const conf = extlinuxConf(profile, {
    kernel: '/vmlinuz',
    initrd: '/initramfs',
    ...(fdt ? { fdt: `/${fdt}` } : {}),
    append: kernelCmdline(profile, signature),
  });
  await writeFile(join(bootDir, 'extlinux.conf'), conf);
  bootFiles.push({ path: DIRECT_BOOT_CONF, source: join(bootDir, 'extlinux.conf') });
  // U-Boot's distro boot finds boot.scr (it never sees DIRECT_BOOT_CONF): the script picks the root slot.
  const script = bootScriptText({
    profile,
    cmdline: kernelCmdline(profile, signature).replace(/^root=\S+\s*/, ''),
    signature,
    ...(fdt ? { fdt } : {}),
  });
  await writeFile(join(bootDir, 'boot.cmd'), script);
  await writeFile(join(bootDir, 'boot.scr'), scriptImage(script, profile.arch, epoch));
  bootFiles.push(
    { path: 'boot.cmd', source: join(bootDir, 'boot.cmd') },
    { path: 'boot.scr', source: join(bootDir, 'boot.scr') },
  );

  log(
    `assembling the image (${tree.size} entries, ${(tree.contentBytes() / 1048576).toFixed(0)} MiB of files)`,
  );
  await mkdir(o.outDir, { recursive: true });
  const stem = `skyminer-${fw.version}-${profile.name}`;
  const image = join(o.outDir, `${stem}.img`);
  const tmpImage = `${image}.${process.pid}.tmp`;
  const result = await assembleImage({
    out: tmpImage,
    workDir: work,
    epoch,
    digest,
    firstPartitionMib: profile.layout.first_partition_mib,
    bootMib: profile.layout.boot_mib,
    rootFreeMib: profile.layout.root_free_mib,
    slotMib: profile.layout.slot_mib,
    dataMib: profile.layout.data_mib,
    dataDir: bakedConfig(profile).supervisor.state_dir,
    bootFiles,
    root: tree,
    ...(bootloader ? { bootloader: bootloader.parts } : {}),
  });
  await rename(tmpImage, image);
  await rm(scratch, { recursive: true, force: true });
  const sha256 = await sha256File(image);
  const sizeBytes = (await stat(image)).size;
  const sums = [`${sha256}  ${stem}.img`];

  let compressed: string | undefined;
  let compressedBytes: number | undefined;
  const tCompress = performance.now();
  if (o.compress !== false) {
    log('compressing (xz)');
    compressed = `${image}.xz`;
    // A fixed block size makes the multi-threaded output the same whatever the number of threads. Preset 3: on
    // this image about a minute of CPU against three for -6, for a file about a tenth larger.
    const mib = (b: number) => (b / 1048576).toFixed(0);
    await filterFile('xz', ['-3', '-T2', '--block-size=16MiB', '-c'], image, compressed, (read) =>
      o.progress?.(read / sizeBytes, `${mib(read)}/${mib(sizeBytes)} MiB`),
    );
    compressedBytes = (await stat(compressed)).size;
    sums.push(`${await sha256File(compressed)}  ${stem}.img.xz`);
  }

  let bundle: MadeBundle | undefined;
  if (signingKey) {
    log('update bundle');
    bundle = await makeBundle(await rootOfImage(image), signingKey, join(o.outDir, `${stem}.bundle`), epoch);
    sums.push(`${await sha256File(bundle.file)}  ${stem}.bundle`);
  }

  const packages: PackageRecord[] = [...base.packages, ...fw.packages];
  const manifestPath = join(o.outDir, `${stem}.manifest.json`);
  const manifest = {
    firmware: fw.version,
    profile: profile.name,
    arch: profile.arch,
    source_date_epoch: epoch,
    image: { file: `${stem}.img`, sha256, bytes: sizeBytes },
    ...(compressed ? { compressed: { file: `${stem}.img.xz`, bytes: compressedBytes } } : {}),
    ...(bundle
      ? { bundle: { file: `${stem}.bundle`, bytes: bundle.bytes, key_id: bundle.manifest.key_id } }
      : {}),
    layout: {
      disk_signature: `0x${signature.toString(16).padStart(8, '0')}`,
      root_uuid: result.rootUuid,
      data_uuid: result.dataUuid,
      boot_start: result.plan.bootStart,
      root_start: result.plan.rootStart,
      slot_b_start: result.plan.slotBStart,
      slot_bytes: result.plan.slotBytes,
      data_start: result.plan.dataStart,
    },
    bootloader: bootloader
      ? {
          source: bootloader.source,
          parts: bootloader.parts.map((b) => ({
            offset: b.offset,
            bytes: b.data.length,
            sha256: createHash('sha256').update(b.data).digest('hex'),
          })),
        }
      : null,
    kernel: k.version,
    skywire: skywire
      ? { version: skywire.version, goarch: skywire.goarch, sha256: await sha256File(skywire.binary) }
      : null,
    packages,
    inputs: Object.fromEntries(Object.entries(lock).map(([key, i]) => [key, inputChecksum(i)])),
    input_digest: digest,
  };
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  // SHA256SUMS covers every image in out/: this build's lines replace its earlier ones.
  const sumsPath = join(o.outDir, 'SHA256SUMS');
  const earlier = (await readFile(sumsPath, 'utf8').catch(() => ''))
    .split('\n')
    .filter(
      (l) => l && ![`${stem}.img`, `${stem}.img.xz`, `${stem}.bundle`].some((f) => l.endsWith(`  ${f}`)),
    );
  await writeFile(
    sumsPath,
    [...earlier, ...sums].sort((x, y) => (x.slice(66) < y.slice(66) ? -1 : 1)).join('\n') + '\n',
  );
  log(`done: ${image} (${(sizeBytes / 1048576).toFixed(0)} MiB) sha256 ${sha256}`);
  return {
    profile,
    image,
    ...(compressed ? { compressed, compressedBytes: compressedBytes! } : {}),
    manifest: manifestPath,
    ...(bundle ? { bundle: bundle.file, bundleBytes: bundle.bytes } : {}),
    sha256,
    sizeBytes,
    seconds: (performance.now() - t0) / 1000,
    compressSeconds: o.compress !== false ? (performance.now() - tCompress) / 1000 : 0,
  };
}
