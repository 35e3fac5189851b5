import { ApkError } from './errors.js';
import { type Dependency, parseDependencyList } from './dependency.js';

/**
 * One package record of an APKINDEX (or of `lib/apk/db/installed`): `X:value` lines. The raw values are kept
 * so the installed database can repeat the index's own text.
 */
export interface IndexEntry {
  /** `C:` — `Q1` + base64 SHA-1 of the package's control gzip stream. */
  checksum: string;
  name: string;
  version: string;
  arch: string | undefined;
  /** `S:` — size of the .apk file in bytes. */
  size: number;
  /** `I:` — installed size in bytes. */
  installedSize: number;
  description: string;
  url: string;
  license: string;
  origin: string | undefined;
  maintainer: string | undefined;
  buildTime: number | undefined;
  commit: string | undefined;
  providerPriority: number | undefined;
  depends: Dependency[];
  provides: Dependency[];
  installIf: Dependency[];
}

const REQUIRED = ['C', 'P', 'V'] as const;

/** Parses the text of an APKINDEX file. Records are separated by blank lines. */
export function parseIndex(text: string, source: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  let fields = new Map<string, string>();
  let lineNo = 0;
  const flush = (): void => {
    if (fields.size === 0) return;
    entries.push(entryFromFields(fields, `${source} (record ending at line ${lineNo})`));
    fields = new Map();
  };
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') {
      flush();
      continue;
    }
    if (line.length < 2 || line[1] !== ':') {
      throw new ApkError(
        source,
        `line ${lineNo} is not a 'X:value' field: ${JSON.stringify(line.slice(0, 40))}`,
      );
    }
    fields.set(line[0]!, line.slice(2));
  }
  flush();
  return entries;
}

export function entryFromFields(f: Map<string, string>, where: string): IndexEntry {
  for (const k of REQUIRED) {
    if (!f.get(k)) throw new ApkError(where, `missing '${k}:' field`);
  }
  const checksum = f.get('C')!;
  if (!/^Q1[A-Za-z0-9+/]{27}=$/.test(checksum)) throw new ApkError(where, `bad 'C:' checksum '${checksum}'`);
  const num = (k: string): number | undefined => {
    const v = f.get(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new ApkError(where, `'${k}:' is not a number: '${v}'`);
    return Number(v);
  };
  const deps = (k: string): Dependency[] => {
    try {
      return parseDependencyList(f.get(k) ?? '');
    } catch (err) {
      throw new ApkError(`${where} ${f.get('P')}`, (err as Error).message);
    }
  };
  return {
    checksum,
    name: f.get('P')!,
    version: f.get('V')!,
    arch: f.get('A'),
    size: num('S') ?? 0,
    installedSize: num('I') ?? 0,
    description: f.get('T') ?? '',
    url: f.get('U') ?? '',
    license: f.get('L') ?? '',
    origin: f.get('o'),
    maintainer: f.get('m'),
    buildTime: num('t'),
    commit: f.get('c'),
    providerPriority: num('k'),
    depends: deps('D'),
    provides: deps('p'),
    installIf: deps('i'),
  };
}

/** `name-version`, the way apk names a package in messages. */
export function packageId(e: { name: string; version: string }): string {
  return `${e.name}-${e.version}`;
}

/**
 * The index header of a package exactly as apk-tools writes it (`apk_pkg_write_index_header`): the fields in
 * this fixed order, optional ones only when set, then `D:`, `p:`, `i:`.
 */
export function formatIndexHeader(e: IndexEntry): string {
  let s = `C:${e.checksum}\nP:${e.name}\nV:${e.version}\n`;
  if (e.arch !== undefined) s += `A:${e.arch}\n`;
  s += `S:${e.size}\nI:${e.installedSize}\nT:${e.description}\nU:${e.url}\nL:${e.license}\n`;
  if (e.origin) s += `o:${e.origin}\n`;
  if (e.maintainer) s += `m:${e.maintainer}\n`;
  if (e.buildTime) s += `t:${e.buildTime}\n`;
  if (e.commit) s += `c:${e.commit}\n`;
  if (e.providerPriority) s += `k:${e.providerPriority}\n`;
  const list = (k: string, d: Dependency[]): string =>
    d.length ? `${k}:${d.map((x) => x.raw).join(' ')}\n` : '';
  return s + list('D', e.depends) + list('p', e.provides) + list('i', e.installIf);
}
