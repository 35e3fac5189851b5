// The initramfs module set: the closure over modules.dep and modules.softdep of what a profile names, on module
// trees the test lays out the way depmod does (Alpine's packages) and without depmod's files (Debian's).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT_FEATURES } from '../../../images/layout/ext4.js';
import {
  loadModuleTree,
  missingRootModules,
  moduleClosure,
  modinfoSoftdep,
} from '../../../images/rootfs/modules.js';

const KERNEL = '6.6.58-0-lts';

interface Mod {
  path: string;
  depends?: string[];
  softdep?: string;
  aliases?: string[];
}

/** A module: the .modinfo strings the builder reads, gzipped as Alpine ships them. */
const ko = (name: string, m: Mod) =>
  gzipSync(
    Buffer.from(
      [
        '',
        `name=${name}`,
        `depends=${(m.depends ?? []).join(',')}`,
        ...(m.softdep ? [`softdep=${m.softdep}`] : []),
        ...(m.aliases ?? []).map((a) => `alias=${a}`),
        `vermagic=${KERNEL} SMP mod_unload`,
        '',
      ].join('\0'),
    ),
  );

// Linux 6.6's ext4: hard dependencies on mbcache, jbd2 and crc16, and MODULE_SOFTDEP("pre: crc32c"), an alias
// crc32c_generic declares (MODULE_ALIAS_CRYPTO).
const MODULES: Record<string, Mod> = {
  sunxi_mmc: { path: 'kernel/drivers/mmc/host/sunxi-mmc.ko.gz' },
  mmc_block: { path: 'kernel/drivers/mmc/core/mmc_block.ko.gz' },
  crc16: { path: 'kernel/lib/crc16.ko.gz' },
  mbcache: { path: 'kernel/fs/mbcache.ko.gz' },
  jbd2: { path: 'kernel/fs/jbd2/jbd2.ko.gz' },
  ext4: { path: 'kernel/fs/ext4/ext4.ko.gz', depends: ['mbcache', 'jbd2', 'crc16'], softdep: 'pre: crc32c' },
  crc32c_generic: {
    path: 'kernel/crypto/crc32c_generic.ko.gz',
    aliases: ['crypto-crc32c-generic', 'crc32c-generic', 'crypto-crc32c', 'crc32c'],
  },
  sunxi_wdt: { path: 'kernel/drivers/watchdog/sunxi_wdt.ko.gz' },
  // An architecture's own crc32c (as x86's crc32c_intel): found only through the aliases it declares.
  crc32c_arch: { path: 'kernel/arch/crypto/crc32c-arch.ko.gz', aliases: ['crypto-crc32c', 'crc32c'] },
};

/** A module tree; with depmod's files (modules.dep, .softdep, .alias) or only the modules. */
async function moduleTree(o: { depmod: boolean; without?: string[]; builtin?: string[] }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modtree-'));
  const mods = Object.entries(MODULES).filter(([n]) => !(o.without ?? []).includes(n));
  for (const [name, m] of mods) {
    await mkdir(dirname(join(dir, m.path)), { recursive: true });
    await writeFile(join(dir, m.path), ko(name, m));
  }
  if (o.depmod) {
    const pathOf = (n: string) => MODULES[n]!.path;
    await writeFile(
      join(dir, 'modules.dep'),
      mods.map(([, m]) => `${m.path}: ${(m.depends ?? []).map(pathOf).join(' ')}`.trimEnd() + '\n').join(''),
    );
    await writeFile(
      join(dir, 'modules.softdep'),
      '# Soft dependencies extracted from modules themselves.\n' +
        mods
          .filter(([, m]) => m.softdep)
          .map(([n, m]) => `softdep ${n} ${m.softdep}\n`)
          .join(''),
    );
    await writeFile(
      join(dir, 'modules.alias'),
      '# Aliases extracted from modules themselves.\n' +
        mods.flatMap(([n, m]) => (m.aliases ?? []).map((a) => `alias ${a} ${n}\n`)).join(''),
    );
  }
  await writeFile(join(dir, 'modules.builtin'), (o.builtin ?? []).map((p) => `${p}\n`).join(''));
  return dir;
}

const names = (mods: { name: string }[]) => mods.map((m) => m.name);

describe('initramfs module closure', () => {
  it("loads ext4's soft dependency crc32c (crc32c_generic) before ext4, from depmod's files", async () => {
    const tree = await loadModuleTree(await moduleTree({ depmod: true }), KERNEL);
    const closure = await moduleClosure(tree, ['sunxi_mmc', 'mmc_block', 'ext4']);
    expect(names(closure)).toEqual([
      'sunxi_mmc',
      'mmc_block',
      'crc32c_generic',
      'mbcache',
      'jbd2',
      'crc16',
      'ext4',
    ]);
    expect(await missingRootModules(tree, closure, ROOT_FEATURES)).toBeUndefined();
  });

  it('finds the same closure from the modules alone when the tree has no depmod files', async () => {
    const tree = await loadModuleTree(await moduleTree({ depmod: false }), KERNEL);
    const closure = await moduleClosure(tree, ['sunxi_mmc', 'mmc_block', 'ext4']);
    expect(names(closure)).toEqual([
      'sunxi_mmc',
      'mmc_block',
      'crc32c_generic',
      'mbcache',
      'jbd2',
      'crc16',
      'ext4',
    ]);
  });

  it("reads every module's aliases when the tree has neither modules.alias nor a generic module", async () => {
    const tree = await loadModuleTree(
      await moduleTree({ depmod: false, without: ['crc32c_generic'] }),
      KERNEL,
    );
    const closure = await moduleClosure(tree, ['ext4']);
    expect(names(closure)).toEqual(['crc32c_arch', 'mbcache', 'jbd2', 'crc16', 'ext4']);
    expect(await missingRootModules(tree, closure, ROOT_FEATURES)).toBeUndefined();
  });

  it('refuses a root with metadata_csum when nothing in the closure or the kernel gives crc32c', async () => {
    const tree = await loadModuleTree(
      await moduleTree({ depmod: true, without: ['crc32c_generic', 'crc32c_arch'] }),
      KERNEL,
    );
    const closure = await moduleClosure(tree, ['sunxi_mmc', 'mmc_block', 'ext4']);
    expect(names(closure)).not.toContain('crc32c_generic');
    expect(await missingRootModules(tree, closure, ROOT_FEATURES)).toBe(
      "the root's ext4 feature metadata_csum needs crypto-crc32c (crc32c_generic), which the initramfs modules " +
        `(sunxi_mmc, mmc_block, mbcache, jbd2, crc16, ext4) do not load and kernel ${KERNEL} does not build in`,
    );
    // Without metadata_csum the same closure mounts.
    expect(await missingRootModules(tree, closure, ['extent', '64bit'])).toBeUndefined();
  });

  it('accepts crc32c built into the kernel, and needs no module for it', async () => {
    const tree = await loadModuleTree(
      await moduleTree({
        depmod: true,
        without: ['crc32c_generic'],
        builtin: ['kernel/crypto/crc32c_generic.ko'],
      }),
      KERNEL,
    );
    const closure = await moduleClosure(tree, ['ext4']);
    expect(await missingRootModules(tree, closure, ROOT_FEATURES)).toBeUndefined();
  });

  it('refuses an initramfs without ext4, and names a module the kernel lacks', async () => {
    const tree = await loadModuleTree(await moduleTree({ depmod: true }), KERNEL);
    expect(await missingRootModules(tree, await moduleClosure(tree, ['sunxi_mmc']), ROOT_FEATURES)).toMatch(
      /^the root's ext4 feature ext4 needs ext4, which/,
    );
    await expect(moduleClosure(tree, ['sunxi_mmc', 'mmc-blk'])).rejects.toThrow(
      `kernel ${KERNEL} has no module "mmc-blk" (built in, or misspelt?)`,
    );
  });

  it('reads pre and post soft dependencies from .modinfo', () => {
    expect(modinfoSoftdep(Buffer.from('\0softdep=pre: crc32c sha256 post: foo-bar\0'))).toEqual({
      pre: ['crc32c', 'sha256'],
      post: ['foo_bar'],
    });
    expect(modinfoSoftdep(Buffer.from('\0name=x\0'))).toEqual({ pre: [], post: [] });
  });
});
