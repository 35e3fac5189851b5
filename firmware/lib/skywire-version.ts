// Skywire's versions (`v1.3.29`), compared: shared by the rewards' version floor and the visor updates.
const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface Parsed {
  core: [number, number, number];
  pre: string | undefined;
}

function parse(version: string): Parsed | null {
  const m = VERSION.exec(version.trim());
  if (!m) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] };
}

/**
 * Compares two visor versions (`v1.3.29`, `1.3.29`, `v1.3.30-rc1`): negative, 0 or positive like a sort
 * comparator, or null when either cannot be read. A pre-release ranks below its release, as in semver.
 */
export function compareVersions(a: string, b: string): number | null {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return null;
  for (let i = 0; i < 3; i++) {
    const d = pa.core[i]! - pb.core[i]!;
    if (d !== 0) return Math.sign(d);
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  return pa.pre < pb.pre ? -1 : 1;
}

/** True when `version` is at least `minimum`; null when `version` cannot be read. */
export function versionAtLeast(version: string, minimum: string): boolean | null {
  const c = compareVersions(version, minimum);
  return c === null ? null : c >= 0;
}
