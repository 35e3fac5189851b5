// Whether the agent pets its watchdog at a heartbeat. Healthy: yes. Otherwise only while an update install is
// getting on: on a slow board the install itself (one core unpacking, hashing and writing a root) delays the
// loop and the checks past their limits, and a reset then would only throw the install away. A stalled install
// stops counting once it has not moved for `graceMs`, so a wedged board still resets.

/** The install's progress as the agent last saw it change: the count and when (monotonic ms). */
export interface InstallProgress {
  count: number;
  atMs: number;
}

/** The progress to keep after reading the updater's count: a change is stamped now, none clears it. */
export function trackProgress(
  last: InstallProgress | undefined,
  count: number | undefined,
  nowMs: number,
): InstallProgress | undefined {
  if (count === undefined) return undefined;
  return last && last.count === count ? last : { count, atMs: nowMs };
}

export type PetDecision = 'healthy' | 'installing' | 'withheld';

export function petDecision(
  healthy: boolean,
  install: InstallProgress | undefined,
  nowMs: number,
  graceMs: number,
): PetDecision {
  if (healthy) return 'healthy';
  return install && nowMs - install.atMs <= graceMs ? 'installing' : 'withheld';
}
