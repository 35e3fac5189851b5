import { createHash } from 'node:crypto';
import { ApkError } from './errors.js';
import { type Dependency, parseDependencyList } from './dependency.js';
import { splitGzipMembers } from './gzip-members.js';
import { type IndexEntry, packageId } from './index-parser.js';
import { type Keyring, verifySignature } from './keyring.js';
import { readTar, type TarEntry } from './tar-reader.js';

/** The script names apk knows, in apk-tools' own order (the order `scripts.tar` lists them in). */
export const SCRIPT_TYPES = [
  'pre-install',
  'post-install',
  'pre-deinstall',
  'post-deinstall',
  'pre-upgrade',
  'post-upgrade',
  'trigger',
] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

/** A package whose every byte has been checked against the index and its signature. */
export interface VerifiedPackage {
  entry: IndexEntry;
  keyName: string;
  pkginfo: Map<string, string[]>;
  scripts: Map<ScriptType, Buffer>;
  triggers: string[];
  replaces: Dependency[];
  replacesPriority: number;
  /** The data part's members, in archive order. */
  files: TarEntry[];
}

/** `Q1` + base64 SHA-1: apk's text form of a SHA-1 (the `C:` and `Z:` fields). */
export function q1(sha1: Buffer): string {
  return 'Q1' + sha1.toString('base64');
}

function parsePkginfo(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf(' = ');
    if (at < 0) continue;
    const k = line.slice(0, at);
    out.set(k, [...(out.get(k) ?? []), line.slice(at + 3)]);
  }
  return out;
}

/**
 * Checks an .apk v2 file against the index entry that chose it: three gzip members (signature, control, data);
 * the signature by a trusted key over the control member's compressed bytes; the SHA-1 of those bytes against
 * the index's `C:`; the SHA-256 of the data member against `.PKGINFO`'s `datahash`; and each file against its
 * `APK-TOOLS.checksum.SHA1`. Any failure is refused with one line naming the package.
 */
export function readPackage(buf: Buffer, expected: IndexEntry, keyring: Keyring): VerifiedPackage {
  const id = packageId(expected);
  if (expected.size && buf.length !== expected.size) {
    throw new ApkError(
      id,
      `file is ${buf.length} bytes, the index says ${expected.size} (truncated or replaced)`,
    );
  }
  const members = splitGzipMembers(buf, id);
  if (members.length !== 3) throw new ApkError(id, `has ${members.length} gzip parts, an .apk v2 has 3`);
  const [sig, control, data] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]];
  const controlBytes = buf.subarray(control.start, control.end);

  const identity = q1(createHash('sha1').update(controlBytes).digest());
  if (identity !== expected.checksum) {
    throw new ApkError(id, `control checksum ${identity} does not match the index (${expected.checksum})`);
  }
  const keyName = verifySignature(readTar(sig.data, id), controlBytes, keyring, id);

  const controlEntries = readTar(control.data, id);
  const info = controlEntries.find((e) => e.name === '.PKGINFO');
  if (!info) throw new ApkError(id, 'has no .PKGINFO');
  const pkginfo = parsePkginfo(info.data.toString('utf8'));
  const one = (k: string): string | undefined => pkginfo.get(k)?.[0];
  if (one('pkgname') !== expected.name || one('pkgver') !== expected.version) {
    throw new ApkError(id, `.PKGINFO names ${one('pkgname')}-${one('pkgver')}`);
  }
  const datahash = one('datahash');
  if (!datahash) throw new ApkError(id, 'has no datahash in .PKGINFO');
  const actual = createHash('sha256').update(buf.subarray(data.start, data.end)).digest('hex');
  if (actual !== datahash)
    throw new ApkError(id, `data checksum ${actual} does not match datahash ${datahash}`);

  const scripts = new Map<ScriptType, Buffer>();
  for (const e of controlEntries) {
    if (e.name === '.PKGINFO' || !e.name.startsWith('.')) continue;
    const type = e.name.slice(1) as ScriptType;
    if (e.name === '.INSTALL') throw new ApkError(id, 'uses the obsolete .INSTALL script');
    if (SCRIPT_TYPES.includes(type)) scripts.set(type, e.data);
  }

  const files = readTar(data.data, id);
  for (const f of files) {
    if (f.type === 'file' && f.sha1 !== undefined) {
      const sum = createHash('sha1').update(f.data).digest('hex');
      if (sum !== f.sha1) throw new ApkError(id, `${f.name}: content does not match its checksum`);
    }
  }

  let replaces: Dependency[];
  try {
    replaces = parseDependencyList((pkginfo.get('replaces') ?? []).join(' '));
  } catch (err) {
    throw new ApkError(id, (err as Error).message);
  }
  return {
    entry: expected,
    keyName,
    pkginfo,
    scripts,
    triggers: (pkginfo.get('triggers') ?? []).join(' ').split(/\s+/).filter(Boolean),
    replaces,
    replacesPriority: Number(one('replaces_priority') ?? 0) || 0,
    files,
  };
}
