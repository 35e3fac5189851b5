import { ApkError } from './errors.js';
import { entryFromFields, formatIndexHeader, type IndexEntry } from './index-parser.js';
import { SCRIPT_TYPES, type ScriptType } from './package-reader.js';
import { readTar } from './tar-reader.js';
import { TAR_END, tarFile } from './tar-writer.js';

/** Where apk-tools keeps its state inside a root. */
export const DB_DIR = 'lib/apk/db';
export const INSTALLED = `${DB_DIR}/installed`;
export const SCRIPTS_TAR = `${DB_DIR}/scripts.tar`;
export const TRIGGERS = `${DB_DIR}/triggers`;
export const WORLD = 'etc/apk/world';
export const ARCH_FILE = 'etc/apk/arch';

export interface Acl {
  uid: number;
  gid: number;
  mode: number;
}

export interface DbFile {
  name: string;
  acl: Acl;
  /** `Q1`-encoded SHA-1 of the content (of the target, for a symlink). */
  digest: string | undefined;
}

export interface DbDir {
  name: string;
  acl: Acl;
  files: DbFile[];
}

/** One package's record in `lib/apk/db/installed`. */
export interface InstalledRecord {
  entry: IndexEntry;
  replaces: string[];
  replacesPriority: number;
  dirs: DbDir[];
}

const DEFAULT_DIR: Acl = { uid: 0, gid: 0, mode: 0o755 };
const DEFAULT_FILE: Acl = { uid: 0, gid: 0, mode: 0o644 };
const same = (a: Acl, b: Acl): boolean => a.uid === b.uid && a.gid === b.gid && a.mode === b.mode;
const acl = (k: string, a: Acl): string => `${k}:${a.uid}:${a.gid}:${a.mode.toString(8)}\n`;

/**
 * One record the way apk-tools' `apk_db_fdb_write` writes it: the index header, `r:`/`q:`, then per owned
 * directory `F:` (with `M:` when not root:root 0755) and per file `R:` (with `a:` when not root:root 0644,
 * and `Z:`), then a blank line.
 */
export function formatRecord(r: InstalledRecord): string {
  let s = formatIndexHeader(r.entry);
  if (r.replaces.length) s += `r:${r.replaces.join(' ')}\n`;
  if (r.replacesPriority) s += `q:${r.replacesPriority}\n`;
  for (const d of r.dirs) {
    s += `F:${d.name}\n`;
    if (!same(d.acl, DEFAULT_DIR)) s += acl('M', d.acl);
    for (const f of d.files) {
      s += `R:${f.name}\n`;
      if (!same(f.acl, DEFAULT_FILE)) s += acl('a', f.acl);
      if (f.digest) s += `Z:${f.digest}\n`;
    }
  }
  return s + '\n';
}

export function formatInstalled(records: readonly InstalledRecord[]): string {
  return records.map(formatRecord).join('');
}

function parseAcl(v: string, where: string): Acl {
  const m = /^(\d+):(\d+):([0-7]+)(:.*)?$/.exec(v);
  if (!m) throw new ApkError(where, `bad permission field '${v}'`);
  return { uid: Number(m[1]), gid: Number(m[2]), mode: parseInt(m[3]!, 8) };
}

/** Reads `lib/apk/db/installed` back, so packages can be added to a root built earlier. */
export function parseInstalled(text: string): InstalledRecord[] {
  const out: InstalledRecord[] = [];
  for (const block of text.split(/\n\n+/)) {
    if (!block.trim()) continue;
    const fields = new Map<string, string>();
    const rec: Omit<InstalledRecord, 'entry'> = { replaces: [], replacesPriority: 0, dirs: [] };
    let dir: DbDir | undefined;
    let file: DbFile | undefined;
    const where = `${INSTALLED} (${
      block
        .slice(0, 40)
        .split('\n')
        .find((l) => l.startsWith('P:')) ?? 'record'
    })`;
    for (const line of block.split('\n')) {
      if (line.length < 2 || line[1] !== ':') throw new ApkError(where, `bad line '${line.slice(0, 40)}'`);
      const k = line[0]!;
      const v = line.slice(2);
      if (k === 'F') {
        dir = { name: v, acl: DEFAULT_DIR, files: [] };
        file = undefined;
        rec.dirs.push(dir);
      } else if (k === 'M' && dir) dir.acl = parseAcl(v, where);
      else if (k === 'R') {
        if (!dir) throw new ApkError(where, `file '${v}' outside a directory`);
        file = { name: v, acl: DEFAULT_FILE, digest: undefined };
        dir.files.push(file);
      } else if (k === 'a' && file) file.acl = parseAcl(v, where);
      else if (k === 'Z' && file) file.digest = v;
      else if (k === 'r') rec.replaces = v.split(' ').filter(Boolean);
      else if (k === 'q') rec.replacesPriority = Number(v);
      else if (!dir) fields.set(k, v);
    }
    out.push({ ...rec, entry: entryFromFields(fields, where) });
  }
  return out;
}

/** The name apk gives a script inside `scripts.tar`: `name-version.<hex of the C: SHA-1>.type`. */
export function scriptMemberName(entry: IndexEntry, type: ScriptType): string {
  const hex = Buffer.from(entry.checksum.slice(2), 'base64').toString('hex');
  return `${entry.name}-${entry.version}.${hex}.${type}`;
}

export interface ScriptMember {
  name: string;
  data: Buffer;
  mtime: number;
}

export function scriptMembers(entry: IndexEntry, scripts: ReadonlyMap<ScriptType, Buffer>): ScriptMember[] {
  return SCRIPT_TYPES.filter((t) => scripts.has(t)).map((t) => ({
    name: scriptMemberName(entry, t),
    data: scripts.get(t)!,
    mtime: entry.buildTime ?? 0,
  }));
}

/** `scripts.tar` as apk writes it: one 0755 regular member per script, then the end-of-archive blocks. */
export function formatScriptsTar(members: readonly ScriptMember[]): Buffer {
  return Buffer.concat([...members.map((m) => tarFile(m.name, m.data, 0o755, m.mtime)), TAR_END]);
}

export function parseScriptsTar(buf: Buffer): ScriptMember[] {
  return readTar(buf, SCRIPTS_TAR)
    .filter((e) => e.type === 'file')
    .map((e) => ({ name: e.name, data: e.data, mtime: e.mtime }));
}

/** A `triggers` line: the package's `C:` checksum, then its trigger paths. */
export function formatTriggerLine(entry: IndexEntry, triggers: readonly string[]): string {
  return triggers.length ? `${entry.checksum} ${triggers.join(' ')}\n` : '';
}

/** `etc/apk/world`: one dependency per line, sorted by name, apk's order. */
export function formatWorld(terms: readonly string[]): string {
  const name = (t: string): string => t.replace(/^!/, '').split(/[<>=~]/)[0]!;
  const sorted = [...new Set(terms)].sort((a, b) =>
    name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a < b ? -1 : 1,
  );
  return sorted.map((t) => t + '\n').join('');
}
