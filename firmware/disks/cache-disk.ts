import type { BlockDisk } from '../../drivers/disks/block-devices.js';
import type { CommandRunner } from '../../drivers/disks/command-runner.js';
import type { Mount } from '../../drivers/disks/mounts.js';
import type { SmartVerdict, Verdict } from './smart-verdict.js';

/**
 * Which disk holds the board's content cache, as a pure decision (state, event) -> (state, actions), and a thin
 * executor that runs the actions with injected command runners. Nothing here ever waits on a disk before the board
 * is up: the agent starts the care loop and goes on; a failing or missing disk only means "no cache".
 */

/** A disk as the care loop sees it: discovery + SMART verdict + mount table. */
export interface CacheCandidate {
  disk: string;
  serial: string | null;
  /** The block device to check and mount: the largest partition, or the whole disk when unpartitioned. */
  device: string;
  verdict: Verdict;
  reasons: string[];
  /** Where `device` is mounted now, if anywhere. */
  mountedAt: string | null;
}

/** The SATA disks as cache candidates, from discovery, the SMART poller's verdicts (by device path) and the mounts. */
export function cacheCandidates(
  disks: BlockDisk[],
  verdicts: Map<string, SmartVerdict>,
  mounts: Mount[],
): CacheCandidate[] {
  return disks
    .filter((d) => d.transport === 'sata')
    .map((d) => {
      const largest = [...d.partitions].sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
      const device = largest ? `/dev/${largest.name}` : d.devPath;
      const v = verdicts.get(d.devPath);
      return {
        disk: d.name,
        serial: d.serial,
        device,
        verdict: v?.verdict ?? 'unknown',
        reasons: v?.reasons ?? [],
        mountedAt: mounts.find((m) => m.source === device)?.target ?? null,
      };
    });
}

export type CachePhase = 'idle' | 'checking' | 'mounting' | 'mounted' | 'unmounting';

export interface CacheState {
  phase: CachePhase;
  /** The candidate being checked, mounted, in use or unmounted. */
  current: CacheCandidate | null;
  /** The latest view of the disks. */
  disks: CacheCandidate[];
  /** Devices refused (fsck errors, mount failures, failing SMART) and when, so a bad disk is not retried in a loop. */
  rejected: Record<string, { reason: string; atMs: number }>;
}

export type CacheEvent =
  | { type: 'disks'; disks: CacheCandidate[]; nowMs: number }
  | { type: 'fsck-done'; device: string; exitCode: number | null; timedOut: boolean; nowMs: number }
  | { type: 'mount-done'; device: string; ok: boolean; error?: string; nowMs: number }
  | { type: 'umount-done'; mountPoint: string; ok: boolean; lazy: boolean; error?: string; nowMs: number };

export type CacheAction =
  | { type: 'fsck'; device: string; timeoutMs: number }
  | { type: 'mount'; device: string; mountPoint: string }
  | { type: 'umount'; mountPoint: string; lazy: boolean }
  | { type: 'use-cache'; mountPoint: string; disk: string }
  | { type: 'stop-using-cache'; disk: string }
  | { type: 'alert'; level: 'info' | 'warning' | 'critical'; message: string };

export interface CacheConfig {
  /** False: the disks are reported, never checked, mounted or unmounted (a machine whose disks are not the box's). */
  enabled?: boolean;
  mountPoint: string;
  fsckTimeoutMs: number;
  /** Worst verdict still trusted with the cache: 'ok' only, or 'warning' too (default). Never 'failing'. */
  accept: 'ok' | 'warning' | 'unknown';
  /** How long a refused device stays refused before it is tried again. */
  retryAfterMs: number;
}

export const DEFAULT_CACHE_CONFIG: CacheConfig = {
  mountPoint: '/var/cache/skywire',
  fsckTimeoutMs: 5 * 60 * 1000,
  accept: 'warning',
  retryAfterMs: 6 * 60 * 60 * 1000,
};

export const INITIAL_CACHE_STATE: CacheState = { phase: 'idle', current: null, disks: [], rejected: {} };

const RANK: Record<Verdict, number> = { ok: 0, warning: 1, unknown: 2, failing: 3 };

export function decideCache(
  state: CacheState,
  event: CacheEvent,
  config: CacheConfig = DEFAULT_CACHE_CONFIG,
): { state: CacheState; actions: CacheAction[] } {
  const actions: CacheAction[] = [];
  let s: CacheState = event.type === 'disks' ? { ...state, disks: event.disks } : state;
  const reject = (device: string, reason: string): void => {
    s = { ...s, rejected: { ...s.rejected, [device]: { reason, atMs: event.nowMs } } };
  };
  const fresh = (c: CacheCandidate | null): CacheCandidate | null =>
    c ? (s.disks.find((d) => d.device === c.device && d.serial === c.serial) ?? null) : null;

  switch (event.type) {
    case 'disks': {
      const cur = s.current;
      if (s.phase === 'mounted' && cur) {
        const now = fresh(cur);
        if (!now || now.verdict === 'failing') {
          const why = now ? `is failing (${now.reasons.join('; ') || 'SMART'})` : 'has vanished';
          reject(cur.device, `disk ${why}`);
          actions.push(
            { type: 'stop-using-cache', disk: cur.disk },
            { type: 'umount', mountPoint: config.mountPoint, lazy: !now },
            { type: 'alert', level: 'critical', message: `cache disk ${cur.disk} ${why}: unmounting it` },
          );
          s = { ...s, phase: 'unmounting' };
        } else {
          s = { ...s, current: now };
        }
      }
      break;
    }
    case 'fsck-done': {
      if (s.phase !== 'checking' || s.current?.device !== event.device) break;
      const cur = s.current;
      const now = fresh(cur);
      const code = event.exitCode;
      if (event.timedOut) {
        reject(cur.device, `fsck took longer than ${config.fsckTimeoutMs / 1000} s`);
        actions.push(
          alert(
            'warning',
            `fsck of ${cur.device} took longer than ${config.fsckTimeoutMs / 1000} s: not mounted`,
          ),
        );
      } else if (code === null || code >= 4) {
        reject(cur.device, `fsck exit ${code ?? 'none'}: ${fsckMeaning(code)}`);
        actions.push(
          alert(
            'warning',
            `fsck of ${cur.device} found ${fsckMeaning(code)} (exit ${code ?? 'none'}): not mounted`,
          ),
        );
      } else if (!now || now.verdict === 'failing') {
        reject(cur.device, now ? 'disk turned failing' : 'disk vanished');
      } else {
        if (code > 0) actions.push(alert('info', `fsck of ${cur.device} corrected errors`));
        actions.push({ type: 'mount', device: cur.device, mountPoint: config.mountPoint });
        s = { ...s, phase: 'mounting' };
        return { state: s, actions };
      }
      s = { ...s, phase: 'idle', current: null };
      break;
    }
    case 'mount-done': {
      if (s.phase !== 'mounting' || s.current?.device !== event.device) break;
      const cur = s.current;
      if (event.ok) {
        actions.push({ type: 'use-cache', mountPoint: config.mountPoint, disk: cur.disk });
        s = { ...s, phase: 'mounted' };
        return { state: s, actions };
      }
      reject(cur.device, `mount failed: ${event.error ?? 'unknown error'}`);
      actions.push(alert('warning', `mounting ${cur.device} failed: ${event.error ?? 'unknown error'}`));
      s = { ...s, phase: 'idle', current: null };
      break;
    }
    case 'umount-done': {
      if (s.phase !== 'unmounting') break;
      if (!event.ok && !event.lazy) {
        // Busy: detach it now and let the last user close it.
        actions.push({ type: 'umount', mountPoint: config.mountPoint, lazy: true });
        return { state: s, actions };
      }
      if (!event.ok)
        actions.push(
          alert('critical', `could not unmount ${config.mountPoint}: ${event.error ?? 'unknown'}`),
        );
      s = { ...s, phase: 'idle', current: null };
      break;
    }
  }

  if (s.phase === 'idle' && config.enabled !== false) {
    const adopted = s.disks.find(
      (d) => d.mountedAt === config.mountPoint && RANK[d.verdict] <= RANK[config.accept],
    );
    if (adopted) {
      // Already mounted there (fstab, or this agent before a restart): a mounted filesystem cannot be checked.
      actions.push({ type: 'use-cache', mountPoint: config.mountPoint, disk: adopted.disk });
      return { state: { ...s, phase: 'mounted', current: adopted }, actions };
    }
    const pick = choose(s, event.nowMs, config);
    if (pick) {
      actions.push({ type: 'fsck', device: pick.device, timeoutMs: config.fsckTimeoutMs });
      return { state: { ...s, phase: 'checking', current: pick }, actions };
    }
  }
  return { state: s, actions };
}

/** The healthiest disk that is not mounted elsewhere and not recently refused. */
function choose(s: CacheState, nowMs: number, config: CacheConfig): CacheCandidate | null {
  const usable = s.disks.filter((d) => {
    const r = s.rejected[d.device];
    return (
      RANK[d.verdict] <= RANK[config.accept] &&
      d.mountedAt === null &&
      (r === undefined || nowMs - r.atMs >= config.retryAfterMs)
    );
  });
  usable.sort((a, b) => RANK[a.verdict] - RANK[b.verdict] || a.disk.localeCompare(b.disk));
  return usable[0] ?? null;
}

/** fsck's exit status is a bit mask shared by fsck and e2fsck -p. */
export function fsckMeaning(code: number | null): string {
  if (code === null) return 'no exit status (killed)';
  if (code === 0) return 'no errors';
  const parts: string[] = [];
  if (code & 1) parts.push('errors corrected');
  if (code & 2) parts.push('reboot advised');
  if (code & 4) parts.push('errors left uncorrected');
  if (code & 8) parts.push('operational error');
  if (code & 16) parts.push('usage error');
  if (code & 32) parts.push('cancelled');
  if (code & 128) parts.push('shared-library error');
  return parts.join(', ');
}

function alert(level: 'info' | 'warning' | 'critical', message: string): CacheAction {
  return { type: 'alert', level, message };
}

export interface CacheRunners {
  run: CommandRunner;
  /** Creates the mount point (mkdir -p); injected so tests touch no real directory. */
  ensureDir: (path: string) => Promise<void>;
  onAlert: (level: 'info' | 'warning' | 'critical', message: string) => void;
  onUse: (mountPoint: string | null, disk: string) => void;
  now?: () => number;
  fsckCommand?: string[];
  mountTimeoutMs?: number;
}

/** Runs the decisions: every command with a time limit, every result fed back as an event. */
export class CacheDiskCare {
  private state: CacheState = INITIAL_CACHE_STATE;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly runners: CacheRunners,
    private readonly config: CacheConfig = DEFAULT_CACHE_CONFIG,
  ) {}

  current(): CacheState {
    return this.state;
  }

  /** Feeds the latest disks; returns at once (the commands run in the background, one event at a time). */
  update(disks: CacheCandidate[]): Promise<void> {
    return this.feed({ type: 'disks', disks, nowMs: this.now() });
  }

  private now(): number {
    return (this.runners.now ?? Date.now)();
  }

  private feed(event: CacheEvent): Promise<void> {
    this.queue = this.queue.then(async () => {
      const { state, actions } = decideCache(this.state, event, this.config);
      this.state = state;
      // A callback that throws must not take the agent down with an unhandled rejection.
      for (const a of actions) void this.perform(a).catch(() => undefined);
    });
    return this.queue;
  }

  private async perform(a: CacheAction): Promise<void> {
    const r = this.runners;
    const mountTimeoutMs = r.mountTimeoutMs ?? 60_000;
    switch (a.type) {
      case 'fsck': {
        const cmd = r.fsckCommand ?? ['fsck', '-p'];
        const res = await r.run(cmd[0]!, [...cmd.slice(1), a.device], { timeoutMs: a.timeoutMs });
        await this.feed({
          type: 'fsck-done',
          device: a.device,
          exitCode: res.exitCode,
          timedOut: res.errorCode === 'ETIMEDOUT',
          nowMs: this.now(),
        });
        return;
      }
      case 'mount': {
        let error: string | undefined;
        try {
          await r.ensureDir(a.mountPoint);
          const res = await r.run('mount', ['-o', 'noatime', a.device, a.mountPoint], {
            timeoutMs: mountTimeoutMs,
          });
          if (res.exitCode !== 0) error = commandError(res.stderr, res.errorCode, res.exitCode);
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        await this.feed({
          type: 'mount-done',
          device: a.device,
          ok: error === undefined,
          nowMs: this.now(),
          ...(error ? { error } : {}),
        });
        return;
      }
      case 'umount': {
        const res = await r.run('umount', a.lazy ? ['-l', a.mountPoint] : [a.mountPoint], {
          timeoutMs: mountTimeoutMs,
        });
        const ok = res.exitCode === 0;
        await this.feed({
          type: 'umount-done',
          mountPoint: a.mountPoint,
          ok,
          lazy: a.lazy,
          nowMs: this.now(),
          ...(ok ? {} : { error: commandError(res.stderr, res.errorCode, res.exitCode) }),
        });
        return;
      }
      case 'use-cache':
        r.onUse(a.mountPoint, a.disk);
        return;
      case 'stop-using-cache':
        r.onUse(null, a.disk);
        return;
      case 'alert':
        r.onAlert(a.level, a.message);
        return;
    }
  }
}

function commandError(stderr: string, errorCode: string | undefined, exitCode: number | null): string {
  return stderr.trim().split('\n')[0] || errorCode || `exit ${exitCode ?? 'none'}`;
}
