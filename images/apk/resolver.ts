import { ApkError } from './errors.js';
import { ANY, type Dependency, versionMatches } from './dependency.js';
import { type IndexEntry, packageId } from './index-parser.js';
import { compareVersions } from './version.js';

export interface ResolveRequest {
  /** Every package the repositories offer, repositories in priority order. */
  available: readonly IndexEntry[];
  /** Packages already in the root. They stay as they are: this installer adds, it does not upgrade. */
  installed: readonly IndexEntry[];
  /** The whole world (`etc/apk/world` plus what is being added). */
  world: readonly Dependency[];
}

export interface Resolution {
  /** Packages to install, each after the packages it depends on. */
  install: IndexEntry[];
  /** Every package in the root afterwards, installed ones first. */
  all: IndexEntry[];
}

interface State {
  selected: Map<string, IndexEntry>;
  order: IndexEntry[];
  /** Names that versioned provides and package names claim: only one package may hold each. */
  claims: Map<string, IndexEntry>;
  conflicts: { dep: Dependency; by: string }[];
}

function clone(s: State): State {
  return {
    selected: new Map(s.selected),
    order: [...s.order],
    claims: new Map(s.claims),
    conflicts: [...s.conflicts],
  };
}

/** The names a package answers to, with the version it answers with (undefined: unversioned provide). */
function namesOf(p: IndexEntry): { name: string; version: string | undefined; exclusive: boolean }[] {
  return [
    { name: p.name, version: p.version, exclusive: true },
    ...p.provides.map((d) => ({ name: d.name, version: d.version, exclusive: d.version !== undefined })),
  ];
}

/** True when `p` is something `dep` (ignoring its `!`) asks for. */
export function provides(p: IndexEntry, dep: Dependency): boolean {
  if (p.name === dep.name) return versionMatches(dep, p.version, p.checksum);
  return p.provides.some((pr) => {
    if (pr.name !== dep.name) return false;
    // An unversioned provide satisfies only an unversioned dependency.
    if (pr.version === undefined) return dep.mask === ANY;
    return versionMatches(dep, pr.version);
  });
}

/**
 * Chooses the packages for a world, greedily and deterministically: for each dependency (world in name order,
 * then each package's `D:` in order) the best candidate that conflicts with nothing chosen so far wins. Best
 * means: the package of that very name, then the highest `k:` provider priority, the highest version, the
 * lowest name, the earliest repository. Then `install_if` packages whose conditions all hold join, until
 * nothing changes. A choice is never revisited, so a world that needs backtracking is refused with the
 * conflict named rather than solved.
 */
export function resolve(req: ResolveRequest): Resolution {
  const repoIndex = new Map<IndexEntry, number>();
  req.available.forEach((p, i) => repoIndex.set(p, i));
  const pool = [...req.installed, ...req.available];

  let state: State = { selected: new Map(), order: [], claims: new Map(), conflicts: [] };
  for (const p of req.installed) add(state, p);

  const rank = (dep: Dependency, a: IndexEntry, b: IndexEntry): number => {
    const exact = Number(b.name === dep.name) - Number(a.name === dep.name);
    if (exact) return exact;
    const prio = (b.providerPriority ?? 0) - (a.providerPriority ?? 0);
    if (prio) return prio;
    if (a.name === b.name) {
      const v = compareVersions(b.version, a.version);
      if (v) return v;
    }
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    return (repoIndex.get(a) ?? -1) - (repoIndex.get(b) ?? -1);
  };

  const candidates = (dep: Dependency): IndexEntry[] => {
    const seen = new Set<string>();
    return pool
      .filter((p) => provides(p, dep))
      .sort((a, b) => rank(dep, a, b))
      .filter((p) => !seen.has(p.checksum) && (seen.add(p.checksum), true));
  };

  const satisfier = (s: State, dep: Dependency): IndexEntry | undefined => {
    const named = s.selected.get(dep.name);
    if (named && provides(named, dep)) return named;
    for (const p of s.order) if (provides(p, dep)) return p;
    return undefined;
  };

  const need = (s: State, dep: Dependency, by: string): void => {
    if (dep.conflict) {
      const hit = s.order.find((p) => provides(p, dep));
      if (hit) throw new ApkError(by, `conflicts with ${packageId(hit)} ('${dep.raw}')`);
      s.conflicts.push({ dep, by });
      return;
    }
    if (satisfier(s, dep)) return;
    const cands = candidates(dep);
    if (cands.length === 0) {
      const sameName = pool.filter((p) => p.name === dep.name).map(packageId);
      const also = sameName.length ? ` (available: ${[...new Set(sameName)].join(', ')})` : '';
      throw new ApkError(by, `no package provides '${dep.raw}'${also}`);
    }
    let firstReason = '';
    for (const c of cands) {
      const why = blocker(s, c);
      if (why) {
        firstReason ||= `${packageId(c)} ${why}`;
        continue;
      }
      add(s, c);
      for (const d of c.depends) need(s, d, packageId(c));
      return;
    }
    throw new ApkError(by, `cannot satisfy '${dep.raw}': ${firstReason}`);
  };

  const world = [...req.world].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dep of world) need(state, dep, 'world');

  // install_if: a package joins when every condition holds; repeat, since a joiner can enable another.
  const names = [...new Set(req.available.filter((p) => p.installIf.length).map((p) => p.name))].sort();
  for (let changed = true; changed;) {
    changed = false;
    for (const name of names) {
      if (state.selected.has(name)) continue;
      const best = candidates({ name, mask: ANY, version: undefined, conflict: false, raw: name }).find(
        (p) => p.name === name,
      );
      if (!best || best.installIf.length === 0) continue;
      const holds = best.installIf.every((d) =>
        d.conflict ? !state.order.some((p) => provides(p, d)) : satisfier(state, d) !== undefined,
      );
      if (!holds || blocker(state, best)) continue;
      const trial = clone(state);
      try {
        add(trial, best);
        for (const d of best.depends) need(trial, d, packageId(best));
      } catch {
        continue; // an install_if package that cannot be installed is simply left out, as apk does
      }
      state = trial;
      changed = true;
    }
  }

  const installedSet = new Set(req.installed);
  const ordered = installOrder(state, world, satisfier);
  return {
    install: ordered.filter((p) => !installedSet.has(p)),
    all: [...req.installed, ...ordered.filter((p) => !installedSet.has(p))],
  };
}

function add(s: State, p: IndexEntry): void {
  s.selected.set(p.name, p);
  s.order.push(p);
  for (const n of namesOf(p)) if (n.exclusive) s.claims.set(n.name, p);
}

/** Why `p` cannot join the selection, or '' when it can. */
function blocker(s: State, p: IndexEntry): string {
  const same = s.selected.get(p.name);
  if (same) return `would replace ${packageId(same)}`;
  for (const n of namesOf(p)) {
    const holder = n.exclusive ? s.claims.get(n.name) : undefined;
    if (holder && holder !== p) return `provides '${n.name}' as ${packageId(holder)} does`;
  }
  for (const c of s.conflicts) if (provides(p, c.dep)) return `conflicts with ${c.by} ('${c.dep.raw}')`;
  for (const d of p.depends) {
    if (!d.conflict) continue;
    const hit = s.order.find((q) => provides(q, d));
    if (hit) return `conflicts with ${packageId(hit)} ('${d.raw}')`;
  }
  return '';
}

/** Depth-first, dependencies before dependents; roots are the world in its own order, then the rest. */
function installOrder(
  s: State,
  world: readonly Dependency[],
  satisfier: (s: State, d: Dependency) => IndexEntry | undefined,
): IndexEntry[] {
  const out: IndexEntry[] = [];
  const done = new Set<IndexEntry>();
  const visiting = new Set<IndexEntry>();
  const visit = (p: IndexEntry): void => {
    if (done.has(p) || visiting.has(p)) return; // a cycle is broken where it is met
    visiting.add(p);
    for (const d of p.depends) {
      if (d.conflict) continue;
      const q = satisfier(s, d);
      if (q) visit(q);
    }
    visiting.delete(p);
    done.add(p);
    out.push(p);
  };
  for (const d of world) {
    const p = d.conflict ? undefined : satisfier(s, d);
    if (p) visit(p);
  }
  for (const p of s.order) visit(p);
  return out;
}
