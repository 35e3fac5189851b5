// Kernel modules without depmod: the package ships no modules.dep, so each module's dependencies are read from
// its own .modinfo ("depends=a,b"), and a modules.dep for what the image holds is written by the builder.
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

/** The modules to load, dependencies first, each once; a module missing from the kernel is named. */
export async function resolveModules(
  modulesDir: string,
  index: Map<string, string>,
  wanted: readonly string[],
  kernel: string,
): Promise<ResolvedModule[]> {
  const order: ResolvedModule[] = [];
  const seen = new Set<string>();
  const visit = async (raw: string): Promise<void> => {
    const name = raw.replace(/-/g, '_');
    if (seen.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (!path) throw new Error(`kernel ${kernel} has no module "${raw}" (built in, or misspelt?)`);
    if (path.endsWith('.xz') || path.endsWith('.zst'))
      throw new Error(`${path}: xz and zstd compressed modules are not handled`);
    const depends = modinfoDepends((await readModule(modulesDir, path)).data);
    for (const d of depends) await visit(d);
    order.push({ name, path, depends });
  };
  for (const w of wanted) await visit(w);
  return order;
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

export function modulesDep(mods: readonly ResolvedModule[]): string {
  const pathOf = new Map(mods.map((m) => [m.name, m.path]));
  return mods
    .map((m) => `${m.path}: ${m.depends.map((d) => pathOf.get(d)!).join(' ')}`.trimEnd() + '\n')
    .join('');
}
