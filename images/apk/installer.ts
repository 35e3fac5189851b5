import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApkError } from './errors.js';
import {
  BUSYBOX_PATHS,
  busyboxAppletPaths,
  FIRST_BOOT_DIR,
  FIRST_BOOT_RUNLEVEL_LINK,
  FIRST_BOOT_RUNNER,
  FIRST_BOOT_RUNNER_SCRIPT,
  FIRST_BOOT_SERVICE,
  FIRST_BOOT_SERVICE_SCRIPT,
  formatPending,
  type PendingScript,
  pendingScripts,
} from './base-layout.js';
import { parseDependencyList } from './dependency.js';
import { type IndexEntry, packageId } from './index-parser.js';
import {
  type Acl,
  ARCH_FILE,
  type DbDir,
  formatInstalled,
  formatScriptsTar,
  formatTriggerLine,
  formatWorld,
  INSTALLED,
  type InstalledRecord,
  parseInstalled,
  parseScriptsTar,
  type ScriptMember,
  scriptMembers,
  SCRIPTS_TAR,
  TRIGGERS,
  WORLD,
} from './installed-db.js';
import { isPlainPath, Journal } from './journal.js';
import { Keyring } from './keyring.js';
import { formatManifest, type Manifest, type ManifestEntry, manifestPath, readManifest } from './manifest.js';
import { q1, readPackage, type VerifiedPackage } from './package-reader.js';
import { fetchBytes, loadRepository, packageLocation, type Repository } from './repository.js';
import { resolve } from './resolver.js';

export interface InstallOptions {
  root: string;
  /** Directories or http(s) URLs, in priority order; each holds `<arch>/APKINDEX.tar.gz`. */
  repositories: readonly string[];
  keysDir: string;
  arch: string;
  /** World terms to add: `busybox`, `musl>=1.2`, ... */
  packages: readonly string[];
  /** Test hook: called before each change to the root; throwing simulates a failing disk. */
  beforeChange?: (hostPath: string) => void;
}

export interface InstallResult {
  installed: IndexEntry[];
  /** Scripts queued for the first boot, in run order. */
  pending: PendingScript[];
  manifestPath: string;
  /** Whether an OpenRC service was installed to run the queue (only when OpenRC is in the root). */
  firstBootService: boolean;
}

const readOptional = async (p: string): Promise<Buffer | undefined> =>
  readFile(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });

/** Name → id from the root's own passwd/group, as apk resolves owners (by name first, then the number). */
function idTable(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) m.set(f[0], Number(f[2]));
  }
  return m;
}

interface Planned {
  pkg: VerifiedPackage;
  record: InstalledRecord;
}

/**
 * Adds packages to a root: resolves them against the repositories, downloads and verifies every package
 * completely, and only then writes, through a journal that undoes everything if any step fails. Writes the
 * installed database the way apk-tools does, makes busybox's applet links, queues the remaining package
 * scripts for the first boot, and records declared owners and modes in the manifest beside the root.
 */
export async function installPackages(opts: InstallOptions): Promise<InstallResult> {
  const keyring = await Keyring.load(opts.keysDir);
  const repos: Repository[] = [];
  for (const r of opts.repositories) repos.push(await loadRepository(r, opts.arch, keyring));
  const repoOf = new Map<IndexEntry, Repository>();
  for (const r of repos) for (const e of r.entries) repoOf.set(e, r);

  const root = opts.root;
  const dbText = await readOptional(join(root, INSTALLED));
  const records = dbText ? parseInstalled(dbText.toString('utf8')) : [];
  const worldText = (await readOptional(join(root, WORLD)))?.toString('utf8') ?? '';
  const worldTerms = [...worldText.split(/\s+/).filter(Boolean), ...opts.packages];
  let world;
  try {
    world = parseDependencyList(worldTerms.join(' '));
  } catch (err) {
    throw new ApkError('world', (err as Error).message);
  }

  const resolution = resolve({
    available: repos.flatMap((r) => r.entries),
    installed: records.map((r) => r.entry),
    world,
  });

  // Download and verify everything before the root is touched.
  const verified: VerifiedPackage[] = [];
  for (const e of resolution.install) {
    const url = packageLocation(repoOf.get(e)!.location, opts.arch, e);
    const pkg = readPackage(await fetchBytes(url, packageId(e)), e, keyring);
    for (const f of pkg.files) {
      if (!isPlainPath(f.name.replace(/\/$/, '')))
        throw new ApkError(packageId(e), `${f.name}: path escapes the root`);
      if (f.type === 'hardlink' && !isPlainPath(f.linkTarget ?? '')) {
        throw new ApkError(packageId(e), `${f.name}: hard link target escapes the root`);
      }
    }
    verified.push(pkg);
  }

  const owners = new Map<string, InstalledRecord>();
  for (const r of records)
    for (const d of r.dirs) for (const f of d.files) owners.set(join(d.name, f.name), r);
  const plans = verified.map((pkg) => plan(pkg, owners));

  const manifest: Manifest = await readManifest(root);
  const journal = new Journal(root, opts.beforeChange);
  try {
    const ids = { users: new Map<string, number>(), groups: new Map<string, number>(), stale: true };
    for (const { pkg, record } of plans) await extract(journal, pkg, record, manifest, ids);
    await makeAppletLinks(journal, manifest);
    const pending = await writeDatabase(journal, opts, records, plans, worldTerms, manifest);
    const service = pending.length > 0 && (await readOptional(join(root, 'sbin/openrc-run'))) !== undefined;
    if (service) {
      await journal.replaceFile(FIRST_BOOT_SERVICE, FIRST_BOOT_SERVICE_SCRIPT, 0o755);
      ownManifest(manifest, FIRST_BOOT_SERVICE, 0o755);
      if (!(await readOptional(join(root, FIRST_BOOT_RUNLEVEL_LINK)))) {
        await journal.symlink(FIRST_BOOT_RUNLEVEL_LINK, `/${FIRST_BOOT_SERVICE}`, 'first boot');
        manifest.entries[FIRST_BOOT_RUNLEVEL_LINK] = {
          ...rootOwned(0o777),
          type: 'symlink',
          target: `/${FIRST_BOOT_SERVICE}`,
        };
      }
    }
    await journal.replaceHostFile(manifestPath(root), formatManifest(manifest), 0o644);
    await journal.commit();
    return {
      installed: resolution.install,
      pending,
      manifestPath: manifestPath(root),
      firstBootService: service,
    };
  } catch (err) {
    await journal.rollback();
    throw err;
  }
}

const rootOwned = (mode: number): Omit<ManifestEntry, 'type'> => ({
  mode,
  uid: 0,
  gid: 0,
  uname: 'root',
  gname: 'root',
});
function ownManifest(m: Manifest, rel: string, mode: number): void {
  m.entries[rel] = { ...rootOwned(mode), type: 'file' };
}

/** Works out ownership and the database record before anything is written; refuses file conflicts. */
function plan(pkg: VerifiedPackage, owners: Map<string, InstalledRecord>): Planned {
  const id = packageId(pkg.entry);
  const record: InstalledRecord = {
    entry: pkg.entry,
    replaces: pkg.replaces.map((d) => d.raw),
    replacesPriority: pkg.replacesPriority,
    dirs: [],
  };
  const dirs = new Map<string, DbDir>();
  const dirOf = (name: string): DbDir => {
    let d = dirs.get(name);
    if (!d) {
      d = { name, acl: { uid: 0, gid: 0, mode: 0o755 }, files: [] };
      dirs.set(name, d);
      record.dirs.push(d);
    }
    return d;
  };
  for (const f of pkg.files) {
    const name = f.name.replace(/\/+$/, '');
    if (f.type === 'dir') {
      dirOf(name);
      continue;
    }
    const slash = name.lastIndexOf('/');
    const dir = slash < 0 ? '' : name.slice(0, slash);
    if (dir && !dirs.has(dir))
      throw new ApkError(id, `${name}: no directory entry for '${dir}' in the package`);
    const prev = owners.get(name);
    if (prev && prev.entry.name !== pkg.entry.name) {
      const replaces = pkg.replaces.some((d) => d.name === prev.entry.name);
      const sameOrigin = prev.entry.origin !== undefined && prev.entry.origin === pkg.entry.origin;
      if (!replaces && !sameOrigin) {
        throw new ApkError(id, `trying to overwrite ${name} owned by ${packageId(prev.entry)}`);
      }
      for (const d of prev.dirs)
        if (d.name === dir) d.files = d.files.filter((x) => x.name !== name.slice(slash + 1));
    }
    owners.set(name, record);
    dirOf(dir).files.push({
      name: name.slice(slash + 1),
      acl: { uid: 0, gid: 0, mode: 0o644 },
      digest: undefined,
    });
  }
  return { pkg, record };
}

async function extract(
  journal: Journal,
  pkg: VerifiedPackage,
  record: InstalledRecord,
  manifest: Manifest,
  ids: { users: Map<string, number>; groups: Map<string, number>; stale: boolean },
): Promise<void> {
  const id = packageId(pkg.entry);
  const digests = new Map<string, string>();
  const dirs = new Map(record.dirs.map((d) => [d.name, d]));
  for (const f of pkg.files) {
    if (ids.stale) {
      ids.users = idTable((await readOptional(join(journal.root, 'etc/passwd')))?.toString('utf8'));
      ids.groups = idTable((await readOptional(join(journal.root, 'etc/group')))?.toString('utf8'));
      ids.stale = false;
    }
    const name = f.name.replace(/\/+$/, '');
    const uid = ids.users.get(f.uname) ?? f.uid;
    const gid = ids.groups.get(f.gname) ?? f.gid;
    const acl: Acl = { uid, gid, mode: f.mode };
    const m: ManifestEntry = {
      type: f.type,
      mode: f.mode,
      uid,
      gid,
      uname: f.uname,
      gname: f.gname,
      package: pkg.entry.name,
    };
    if (!ids.users.has(f.uname) || !ids.groups.has(f.gname)) m.unresolved = true;
    const slash = name.lastIndexOf('/');
    const dbFile = dirs
      .get(slash < 0 ? '' : name.slice(0, slash))
      ?.files.find((x) => x.name === name.slice(slash + 1));
    switch (f.type) {
      case 'dir':
        // Writable by the builder on the host; the declared mode is in the manifest and the database.
        await journal.directory(name, (f.mode & 0o777) | 0o700, id);
        dirs.get(name)!.acl = acl;
        break;
      case 'file': {
        await journal.file(name, f.data, f.mode & 0o777, id);
        const digest = q1(f.sha1 ? Buffer.from(f.sha1, 'hex') : createHash('sha1').update(f.data).digest());
        digests.set(name, digest);
        if (dbFile) Object.assign(dbFile, { acl, digest });
        if (name === 'etc/passwd' || name === 'etc/group') ids.stale = true;
        break;
      }
      case 'symlink': {
        await journal.symlink(name, f.linkTarget!, id);
        m.target = f.linkTarget!;
        const digest = q1(createHash('sha1').update(f.linkTarget!).digest());
        if (dbFile) Object.assign(dbFile, { acl, digest });
        break;
      }
      case 'hardlink': {
        const target = f.linkTarget!;
        if (!digests.has(target))
          throw new ApkError(id, `${name}: hard link target ${target} is not in the package`);
        await journal.hardlink(name, target, id);
        m.target = target;
        if (dbFile) Object.assign(dbFile, { acl, digest: digests.get(target) });
        break;
      }
      default:
        // Device nodes and fifos exist only in the manifest: making them needs root on the host.
        m.major = f.devMajor;
        m.minor = f.devMinor;
        if (dbFile) Object.assign(dbFile, { acl });
    }
    manifest.entries[name] = m;
  }
}

async function makeAppletLinks(journal: Journal, manifest: Manifest): Promise<void> {
  const list = await readOptional(join(journal.root, BUSYBOX_PATHS));
  if (!list || !(await readOptional(join(journal.root, 'bin/busybox')))) return;
  for (const rel of busyboxAppletPaths(list.toString('utf8'))) {
    if (!isPlainPath(rel)) throw new ApkError('busybox', `applet path ${rel} escapes the root`);
    if (manifest.entries[rel] || (await readOptional(join(journal.root, rel)))) continue;
    await journal.symlink(rel, '/bin/busybox', 'busybox applet links');
    manifest.entries[rel] = {
      ...rootOwned(0o777),
      type: 'symlink',
      target: '/bin/busybox',
      package: 'busybox',
    };
  }
}

async function writeDatabase(
  journal: Journal,
  opts: InstallOptions,
  previous: InstalledRecord[],
  plans: Planned[],
  worldTerms: string[],
  manifest: Manifest,
): Promise<PendingScript[]> {
  const root = opts.root;
  const all = [...previous, ...plans.map((p) => p.record)];
  await journal.replaceFile(INSTALLED, formatInstalled(all), 0o644);

  const oldScripts = await readOptional(join(root, SCRIPTS_TAR));
  const members: ScriptMember[] = [
    ...(oldScripts ? parseScriptsTar(oldScripts) : []),
    ...plans.flatMap((p) => scriptMembers(p.pkg.entry, p.pkg.scripts)),
  ];
  await journal.replaceFile(SCRIPTS_TAR, formatScriptsTar(members), 0o644);

  const oldTriggers = (await readOptional(join(root, TRIGGERS)))?.toString('utf8') ?? '';
  const triggers = oldTriggers + plans.map((p) => formatTriggerLine(p.pkg.entry, p.pkg.triggers)).join('');
  await journal.replaceFile(TRIGGERS, triggers, 0o644);
  await journal.replaceFile(WORLD, formatWorld(worldTerms), 0o644);
  if (!(await readOptional(join(root, ARCH_FILE))))
    await journal.replaceFile(ARCH_FILE, `${opts.arch}\n`, 0o644);
  for (const f of [INSTALLED, SCRIPTS_TAR, TRIGGERS, WORLD, ARCH_FILE]) ownManifest(manifest, f, 0o644);

  // Scripts that must run on the device: queue them, with the runner that will.
  const install: PendingScript[] = [];
  const trigger: PendingScript[] = [];
  const owners: string[] = [];
  for (const { pkg } of plans) {
    const p = pendingScripts(pkg.entry, pkg.scripts, pkg.triggers);
    install.push(...p.install);
    trigger.push(...p.trigger);
    for (const s of [...p.install, ...p.trigger]) {
      const type = s.file.slice(s.file.lastIndexOf('.') + 1) as Parameters<typeof pkg.scripts.get>[0];
      const rel = `${FIRST_BOOT_DIR}/scripts/${s.file}`;
      await journal.replaceFile(rel, pkg.scripts.get(type)!, 0o755);
      ownManifest(manifest, rel, 0o755);
    }
    for (const f of pkg.files) {
      const m = manifest.entries[f.name.replace(/\/+$/, '')];
      if (m?.unresolved) owners.push(`${m.uname}:${m.gname}\t${f.name.replace(/\/+$/, '')}\n`);
    }
  }
  const pending = [...install, ...trigger];
  if (pending.length || owners.length) {
    const old = (await readOptional(join(root, FIRST_BOOT_DIR, 'pending')))?.toString('utf8') ?? '';
    await journal.replaceFile(`${FIRST_BOOT_DIR}/pending`, old + formatPending(pending), 0o644);
    const oldOwners = (await readOptional(join(root, FIRST_BOOT_DIR, 'owners')))?.toString('utf8') ?? '';
    await journal.replaceFile(`${FIRST_BOOT_DIR}/owners`, oldOwners + owners.join(''), 0o644);
    await journal.replaceFile(FIRST_BOOT_RUNNER, FIRST_BOOT_RUNNER_SCRIPT, 0o755);
    ownManifest(manifest, `${FIRST_BOOT_DIR}/pending`, 0o644);
    ownManifest(manifest, `${FIRST_BOOT_DIR}/owners`, 0o644);
    ownManifest(manifest, FIRST_BOOT_RUNNER, 0o755);
  }
  return pending;
}

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string | undefined;
  description: string;
}

/** What `lib/apk/db/installed` in a root lists, in installation order. */
export async function listInstalled(root: string): Promise<InstalledPackage[]> {
  const text = await readOptional(join(root, INSTALLED));
  if (!text) return [];
  return parseInstalled(text.toString('utf8')).map(({ entry: e }) => ({
    name: e.name,
    version: e.version,
    arch: e.arch,
    description: e.description,
  }));
}
