import { ApkError } from './errors.js';
import { compareVersions } from './version.js';

/** Result bits of a version comparison, as a dependency's operator accepts them. */
export const LESS = 1;
export const EQUAL = 2;
export const GREATER = 4;
export const FUZZY = 8;
/** `name><Q1...`: the dependency names one exact package by its control checksum. */
export const CHECKSUM = 16;
export const ANY = LESS | EQUAL | GREATER;

/** One term of a `D:`, `p:`, `i:` or world line: `name`, `!name`, `name>=1.2-r0`, `so:libc.so=1`, ... */
export interface Dependency {
  name: string;
  /** Accepted comparison results (LESS/EQUAL/GREATER, FUZZY); ANY when unversioned. */
  mask: number;
  version: string | undefined;
  conflict: boolean;
  /** The term as written, so the installed database repeats it byte for byte. */
  raw: string;
}

const OP_CHARS = /[<>=~]/;

export function parseDependency(term: string): Dependency {
  const raw = term;
  let rest = term;
  const conflict = rest.startsWith('!');
  if (conflict) rest = rest.slice(1);
  const at = rest.search(OP_CHARS);
  if (at < 0) {
    if (!rest || rest.includes('@'))
      throw new ApkError(`dependency '${raw}'`, 'malformed or repository-pinned name');
    return { name: rest, mask: ANY, version: undefined, conflict, raw };
  }
  const name = rest.slice(0, at);
  let end = at;
  while (end < rest.length && OP_CHARS.test(rest[end]!)) end++;
  const op = rest.slice(at, end);
  const version = rest.slice(end);
  let mask = 0;
  for (const c of op) {
    if (c === '<') mask |= LESS;
    else if (c === '>') mask |= GREATER;
    else if (c === '=') mask |= EQUAL;
    else mask |= FUZZY | EQUAL;
  }
  if (op === '><') mask = CHECKSUM;
  if (!name || !version || name.includes('@')) {
    throw new ApkError(`dependency '${raw}'`, 'malformed');
  }
  return { name, mask, version, conflict, raw };
}

/** Splits a space-separated dependency line (`D:`, `p:`, `i:`, world). */
export function parseDependencyList(line: string): Dependency[] {
  return line
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => parseDependency(t));
}

/** True when a package or provide of version `version` satisfies the version part of `dep`. */
export function versionMatches(dep: Dependency, version: string | undefined, checksum?: string): boolean {
  if (dep.mask === ANY) return true;
  if (dep.mask === CHECKSUM) return checksum !== undefined && checksum === dep.version;
  if (version === undefined) return false;
  const r = compareVersions(version, dep.version!, (dep.mask & FUZZY) !== 0);
  const bit = r < 0 ? LESS : r > 0 ? GREATER : EQUAL;
  return (dep.mask & bit) !== 0;
}
