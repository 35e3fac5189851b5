// Kernel modules: the set a list of names stands for (their closure over hard and soft dependencies), read from
// depmod's files where the package has them and from each module's own .modinfo where it has not; and a
// modules.dep for a root that holds only some of them (the emulator profiles, from Debian's package).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const nameOf = (path: string) =>
  path
    .split('/')
    .pop()!
    .replace(/\.ko(\.[a-z]+)?$/, '')
    .replace(/-/g, '_');

/** The `depends=` list in a module's .modinfo strings. */
export function modinfoDepends(ko: Buffer): string[] {
  const at = ko.indexOf('\0depends=');
  if (at < 0) return [];
  const end = ko.indexOf(0, at + 9);
  return ko
    .subarray(at + 9, end)
    .toString('latin1')
    .split(',')
    .filter(Boolean)
    .map((d) => d.replace(/-/g, '_'));
}

/** Module name -> path relative to lib/modules/<version>. */
export async function indexModules(modulesDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const e of await readdir(join(modulesDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (/\.ko(\.[a-z]+)?$/.test(e.name)) out.set(nameOf(e.name), r);
    }
  };
  await walk('kernel');
  return out;
}

export interface ResolvedModule {
  name: string;
  path: string;
  depends: string[];
}

/** The `softdep=pre: a b post: c` line in a module's .modinfo strings. */
export function modinfoSoftdep(ko: Buffer): { pre: string[]; post: string[] } {
  const at = ko.indexOf('\0softdep=');
  if (at < 0) return { pre: [], post: [] };
  return parseSoftdep(ko.subarray(at + 9, ko.indexOf(0, at + 9)).toString('latin1'));
}

function parseSoftdep(text: string): { pre: string[]; post: string[] } {
  const out = { pre: [] as string[], post: [] as string[] };
  let list: string[] | undefined;
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    if (word === 'pre:') list = out.pre;
    else if (word === 'post:') list = out.post;
    else list?.push(word.replace(/-/g, '_'));
  }
  return out;
}

/**
 * What the kernel's module tree says about its modules: the files, and where depmod wrote them (Alpine's
 * packages), modules.dep, modules.softdep, modules.alias and modules.builtin. A tree without them (Debian's
 * packages leave them to depmod at install) is read from each module's own .modinfo instead.
 */
export interface ModuleTree {
  dir: string;
  kernel: string;
  /** Module name -> path relative to lib/modules/<version>. */
  index: Map<string, string>;
  /** From modules.dep (names), when the tree has one. */
  dep?: Map<string, string[]>;
  /** From modules.softdep, when the tree has one. */
  softdep?: Map<string, { pre: string[]; post: string[] }>;
  /** alias -> module names, from modules.alias. */
  alias: Map<string, string[]>;
  /** Names built into the kernel (modules.builtin). */
  builtin: Set<string>;
  /** Set once the aliases of a tree without modules.alias have been read from the modules themselves. */
  aliasScanned?: boolean;
}

const readOptional = (path: string) => readFile(path, 'utf8').catch(() => undefined);

export async function loadModuleTree(modulesDir: string, kernel: string): Promise<ModuleTree> {
  const index = await indexModules(modulesDir);
  const tree: ModuleTree = { dir: modulesDir, kernel, index, alias: new Map(), builtin: new Set() };
  const dep = await readOptional(join(modulesDir, 'modules.dep'));
  if (dep !== undefined) {
    tree.dep = new Map();
    for (const line of dep.split('\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      tree.dep.set(
        nameOf(line.slice(0, colon)),
        line
          .slice(colon + 1)
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(nameOf),
      );
    }
  }
  const softdep = await readOptional(join(modulesDir, 'modules.softdep'));
  if (softdep !== undefined) {
    tree.softdep = new Map();
    for (const line of softdep.split('\n')) {
      const m = /^softdep\s+(\S+)\s+(.*)$/.exec(line.trim());
      if (m) tree.softdep.set(m[1]!.replace(/-/g, '_'), parseSoftdep(m[2]!));
    }
  }
  for (const line of ((await readOptional(join(modulesDir, 'modules.alias'))) ?? '').split('\n')) {
    const m = /^alias\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const key = m[1]!.replace(/-/g, '_');
    tree.alias.set(key, [...(tree.alias.get(key) ?? []), m[2]!.replace(/-/g, '_')]);
  }
  for (const line of ((await readOptional(join(modulesDir, 'modules.builtin'))) ?? '').split('\n'))
    if (line.trim()) tree.builtin.add(nameOf(line.trim()));
  return tree;
}

/** The `alias=` strings in a module's .modinfo. */
export function modinfoAliases(ko: Buffer): string[] {
  const out: string[] = [];
  for (let at = ko.indexOf('\0alias='); at >= 0; at = ko.indexOf('\0alias=', at + 7))
    out.push(ko.subarray(at + 7, ko.indexOf(0, at + 7)).toString('latin1'));
  return out;
}

/** A tree without modules.alias: the aliases every module declares, read once, when a name needs one. */
async function scanAliases(tree: ModuleTree): Promise<void> {
  if (tree.aliasScanned || tree.alias.size > 0) return;
  tree.aliasScanned = true;
  for (const [name, path] of [...tree.index].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (path.endsWith('.xz') || path.endsWith('.zst')) continue;
    for (const a of modinfoAliases((await readModule(tree.dir, path)).data)) {
      const key = a.replace(/-/g, '_');
      tree.alias.set(key, [...(tree.alias.get(key) ?? []), name]);
    }
  }
}

/** The modules a name stands for: itself, or the modules that declare it as an alias (crc32c -> crc32c_generic). */
async function providers(tree: ModuleTree, raw: string): Promise<string[]> {
  const name = raw.replace(/-/g, '_');
  if (tree.index.has(name) || tree.builtin.has(name)) return [name];
  // Without modules.alias, a crypto algorithm's generic module by its name (MODULE_ALIAS_CRYPTO's convention:
  // crc32c is crc32c_generic) before reading the aliases of every module, which takes seconds.
  const generic = `${name.replace(/^crypto_/, '')}_generic`;
  if (tree.alias.size === 0 && (tree.index.has(generic) || tree.builtin.has(generic))) return [generic];
  await scanAliases(tree);
  return (tree.alias.get(name) ?? []).filter((m) => tree.index.has(m) || tree.builtin.has(m));
}

/**
 * The modules to load for the wanted ones, in load order, each once: the closure over modules.dep (hard
 * dependencies, first) and modules.softdep (pre: before, post: after), reading .modinfo where the tree has no
 * depmod files. Soft dependencies name modules or aliases (ext4's `pre: crc32c` is crc32c_generic); one that
 * nothing provides is left out, as modprobe leaves it. A wanted module or hard dependency the kernel lacks stops
 * the build; one built into the kernel needs no loading.
 */
export async function moduleClosure(tree: ModuleTree, wanted: readonly string[]): Promise<ResolvedModule[]> {
  const order: ResolvedModule[] = [];
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (seen.has(name)) return;
    seen.add(name);
    if (tree.builtin.has(name) && !tree.index.has(name)) return;
    const path = tree.index.get(name);
    if (!path) throw new Error(`kernel ${tree.kernel} has no module "${name}" (built in, or misspelt?)`);
    if (path.endsWith('.xz') || path.endsWith('.zst'))
      throw new Error(`${path}: xz and zstd compressed modules are not handled`);
    let data: Buffer | undefined;
    const modinfo = async () => (data ??= (await readModule(tree.dir, path)).data);
    const depends = tree.dep?.get(name) ?? modinfoDepends(await modinfo());
    const soft = tree.softdep
      ? (tree.softdep.get(name) ?? { pre: [], post: [] })
      : modinfoSoftdep(await modinfo());
    for (const s of soft.pre) for (const m of (await providers(tree, s)).slice(0, 1)) await visit(m);
    for (const d of depends) await visit(d);
    order.push({ name, path, depends: depends.filter((d) => tree.index.has(d)) });
    for (const s of soft.post) for (const m of (await providers(tree, s)).slice(0, 1)) await visit(m);
  };
  for (const w of wanted) {
    const name = w.replace(/-/g, '_');
    const found = await providers(tree, name);
    if (found.length === 0)
      throw new Error(`kernel ${tree.kernel} has no module "${w}" (built in, or misspelt?)`);
    await visit(found[0]!);
  }
  return order;
}

/** Modules (or aliases) an ext4 root needs at mount, by the filesystem features it is made with. */
export const ROOT_FEATURE_MODULES: readonly { feature: string; needs: string; hint: string }[] = [
  { feature: 'ext4', needs: 'ext4', hint: 'ext4' },
  // metadata_csum checksums with crc32c through the crypto API, which an initramfs without modprobe cannot load.
  { feature: 'metadata_csum', needs: 'crypto-crc32c', hint: 'crc32c_generic' },
];

/**
 * Refuses an initramfs that cannot mount the root: each feature's module must be in the closure or built into the
 * kernel. Returns the one-line reason, or undefined when the root can mount.
 */
export async function missingRootModules(
  tree: ModuleTree,
  closure: readonly ResolvedModule[],
  features: readonly string[],
): Promise<string | undefined> {
  const loaded = new Set(closure.map((m) => m.name));
  for (const { feature, needs, hint } of ROOT_FEATURE_MODULES) {
    if (feature !== 'ext4' && !features.includes(feature)) continue;
    const ok = (m: string) => loaded.has(m) || tree.builtin.has(m);
    if (!ok(hint) && !(await providers(tree, needs)).some(ok))
      return `the root's ext4 feature ${feature} needs ${needs === hint ? hint : `${needs} (${hint})`}, which the initramfs modules (${[...loaded].join(', ') || 'none'}) do not load and kernel ${tree.kernel} does not build in`;
  }
  return undefined;
}

/**
 * A module's ELF bytes and its name uncompressed: Alpine ships its modules gzipped (.ko.gz), and the
 * initramfs gets them plain so that any insmod loads them.
 */
export async function readModule(modulesDir: string, path: string): Promise<{ path: string; data: Buffer }> {
  const raw = await readFile(join(modulesDir, path));
  if (!path.endsWith('.gz')) return { path, data: raw };
  try {
    return { path: path.slice(0, -3), data: gunzipSync(raw) };
  } catch (err) {
    throw new Error(`${path}: not a gzip file (${(err as Error).message})`);
  }
}

/**
 * modules.dep as depmod writes it: each module with every module it needs, direct or not, the one to load first
 * last (busybox's modprobe loads only what the line lists, from the end).
 */
export function modulesDep(mods: readonly ResolvedModule[]): string {
  const byName = new Map(mods.map((m) => [m.name, m]));
  const line = (m: ResolvedModule) => {
    const order: string[] = [];
    const visit = (name: string) => {
      const d = byName.get(name);
      if (!d || order.includes(d.path)) return;
      for (const dd of d.depends) visit(dd);
      order.push(d.path);
    };
    for (const d of m.depends) visit(d);
    return `${m.path}: ${order.reverse().join(' ')}`.trimEnd() + '\n';
  };
  return mods.map(line).join('');
}
