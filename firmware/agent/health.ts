import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { parseMemInfo } from '../../drivers/proc/meminfo.js';
import type { Health } from '../protocol/messages.js';

/** One health check: resolves true when healthy. A check that throws or takes too long counts as failing. */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<boolean> | boolean;
  /** Releases what the check holds (timers, monitors). */
  close?(): void;
}

/** Runs every check, each within `limitMs`, and summarises them for the heartbeat. */
export async function runChecks(checks: readonly HealthCheck[], limitMs: number): Promise<Health> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), limitMs);
      });
      try {
        return await Promise.race([Promise.resolve().then(() => c.check()), late]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failing = checks.filter((_, i) => !results[i]).map((c) => c.name);
  return { ok: failing.length === 0, failing };
}

/**
 * The agent's own event loop: fails when the worst delay since the last check exceeds `limitMs`. Measured by
 * perf_hooks' histogram, so a loop too busy to run the check on time still shows up in the next one.
 */
export function eventLoopLagCheck(limitMs: number): HealthCheck {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return {
    name: 'event-loop',
    check: () => {
      const worstMs = histogram.max / 1e6;
      histogram.reset();
      return worstMs <= limitMs;
    },
    close: () => histogram.disable(),
  };
}

/** Fails when /proc/meminfo's MemAvailable drops below `minBytes`. */
export function freeMemoryCheck(root: FileRoot, minBytes: number): HealthCheck {
  return {
    name: 'memory',
    check: async () => parseMemInfo(await root.readText('proc/meminfo')).available >= minBytes,
  };
}

export type StatFs = (path: string) => Promise<{ bavail: number; blocks: number; bsize: number }>;

/** Fails when the root filesystem's space free to users drops below `minFreePercent`. */
export function rootSpaceCheck(minFreePercent: number, path = '/', stat: StatFs = statfs): HealthCheck {
  return {
    name: 'root-fs',
    check: async () => {
      const s = await stat(path);
      // 0 switches the check off (a RAM root such as an initramfs reports no blocks at all).
      return minFreePercent <= 0 || (s.blocks > 0 && (100 * s.bavail) / s.blocks >= minFreePercent);
    },
  };
}

export interface HealthLimits {
  eventLoopLagMs: number;
  minFreeMemoryBytes: number;
  minRootFreePercent: number;
}

/**
 * The checks that gate a board's watchdog, reading /proc through `root` (a DirectoryRoot at `/` on the device).
 * Only the agent's own health belongs here: a check that fails stops the petting and resets the board, so a
 * service that can be restarted (the Skywire visor) is supervised as a service, never through the watchdog.
 */
export function defaultChecks(root: FileRoot, limits: HealthLimits, stat?: StatFs): HealthCheck[] {
  return [
    eventLoopLagCheck(limits.eventLoopLagMs),
    freeMemoryCheck(root, limits.minFreeMemoryBytes),
    rootSpaceCheck(limits.minRootFreePercent, '/', stat),
  ];
}

/** The limits the `[agent]` section of the config sets. */
export function healthLimits(agent: {
  event_loop_lag_ms: number;
  min_free_memory_mb: number;
  min_root_free_percent: number;
}): HealthLimits {
  return {
    eventLoopLagMs: agent.event_loop_lag_ms,
    minFreeMemoryBytes: agent.min_free_memory_mb * 1024 * 1024,
    minRootFreePercent: agent.min_root_free_percent,
  };
}
