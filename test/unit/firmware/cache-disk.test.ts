import { describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../../drivers/disks/command-runner.js';
import {
  CacheDiskCare,
  DEFAULT_CACHE_CONFIG,
  INITIAL_CACHE_STATE,
  cacheCandidates,
  decideCache,
  type CacheAction,
  type CacheCandidate,
  type CacheEvent,
  type CacheState,
} from '../../../firmware/disks/cache-disk.js';

const MP = DEFAULT_CACHE_CONFIG.mountPoint;
const disk = (
  name: string,
  verdict: CacheCandidate['verdict'],
  extra: Partial<CacheCandidate> = {},
): CacheCandidate => ({
  disk: name,
  serial: `SER-${name}`,
  device: `/dev/${name}1`,
  verdict,
  reasons: verdict === 'failing' ? ['SMART overall-health self-assessment FAILED'] : [],
  mountedAt: null,
  ...extra,
});

/** Runs a list of events through the decision, returning the final state and every action in order. */
function run(events: CacheEvent[], start: CacheState = INITIAL_CACHE_STATE) {
  let state = start;
  const actions: CacheAction[] = [];
  for (const e of events) {
    const out = decideCache(state, e);
    state = out.state;
    actions.push(...out.actions);
  }
  return { state, actions };
}

const disks = (list: CacheCandidate[], nowMs = 0): CacheEvent => ({ type: 'disks', disks: list, nowMs });
const fsck = (device: string, exitCode: number | null, timedOut = false, nowMs = 0): CacheEvent => ({
  type: 'fsck-done',
  device,
  exitCode,
  timedOut,
  nowMs,
});
const mounted = (device: string, ok = true, error?: string): CacheEvent => ({
  type: 'mount-done',
  device,
  ok,
  nowMs: 0,
  ...(error ? { error } : {}),
});

describe('cache disk decisions', () => {
  it('checks the healthy disk first, never the failing one, then mounts and uses it', () => {
    const { state, actions } = run([
      disks([disk('sda', 'failing'), disk('sdb', 'ok')]),
      fsck('/dev/sdb1', 0),
      mounted('/dev/sdb1'),
    ]);
    expect(actions).toEqual([
      { type: 'fsck', device: '/dev/sdb1', timeoutMs: DEFAULT_CACHE_CONFIG.fsckTimeoutMs },
      { type: 'mount', device: '/dev/sdb1', mountPoint: MP },
      { type: 'use-cache', mountPoint: MP, disk: 'sdb' },
    ]);
    expect(state.phase).toBe('mounted');
  });

  it('prefers an ok disk over one with warnings, and refuses unknown by default', () => {
    expect(run([disks([disk('sda', 'warning'), disk('sdb', 'ok')])]).actions[0]).toMatchObject({
      device: '/dev/sdb1',
    });
    expect(run([disks([disk('sda', 'unknown')])]).actions).toEqual([]);
  });

  it('mounts after fsck corrected errors, saying so', () => {
    const { actions } = run([disks([disk('sda', 'ok')]), fsck('/dev/sda1', 1)]);
    expect(actions.slice(1)).toEqual([
      { type: 'alert', level: 'info', message: 'fsck of /dev/sda1 corrected errors' },
      { type: 'mount', device: '/dev/sda1', mountPoint: MP },
    ]);
  });

  it('refuses a filesystem fsck could not fix and moves to the next disk', () => {
    const { state, actions } = run([
      disks([disk('sda', 'ok'), disk('sdb', 'warning')]),
      fsck('/dev/sda1', 4),
    ]);
    expect(actions.slice(1)).toEqual([
      {
        type: 'alert',
        level: 'warning',
        message: 'fsck of /dev/sda1 found errors left uncorrected (exit 4): not mounted',
      },
      { type: 'fsck', device: '/dev/sdb1', timeoutMs: DEFAULT_CACHE_CONFIG.fsckTimeoutMs },
    ]);
    expect(state.rejected['/dev/sda1']!.reason).toBe('fsck exit 4: errors left uncorrected');
  });

  it('gives up on an fsck that runs too long, and retries that disk only hours later', () => {
    const hours = DEFAULT_CACHE_CONFIG.retryAfterMs;
    const first = run([disks([disk('sda', 'ok')]), fsck('/dev/sda1', null, true)]);
    expect(first.state.phase).toBe('idle');
    expect(first.actions[1]).toMatchObject({
      type: 'alert',
      message: 'fsck of /dev/sda1 took longer than 300 s: not mounted',
    });
    expect(run([disks([disk('sda', 'ok')], 60_000)], first.state).actions).toEqual([]);
    expect(run([disks([disk('sda', 'ok')], hours)], first.state).actions[0]).toMatchObject({ type: 'fsck' });
  });

  it('unmounts a cache disk that turns failing, raising a critical alert, and falls back to a healthy one', () => {
    const up = run([
      disks([disk('sda', 'ok'), disk('sdb', 'ok')]),
      fsck('/dev/sda1', 0),
      mounted('/dev/sda1'),
    ]);
    const failing = run([disks([disk('sda', 'failing'), disk('sdb', 'ok')], 5000)], up.state);
    expect(failing.actions).toEqual([
      { type: 'stop-using-cache', disk: 'sda' },
      { type: 'umount', mountPoint: MP, lazy: false },
      {
        type: 'alert',
        level: 'critical',
        message: 'cache disk sda is failing (SMART overall-health self-assessment FAILED): unmounting it',
      },
    ]);
    const busy = decideCache(failing.state, {
      type: 'umount-done',
      mountPoint: MP,
      ok: false,
      lazy: false,
      error: 'target is busy',
      nowMs: 6000,
    });
    expect(busy.actions).toEqual([{ type: 'umount', mountPoint: MP, lazy: true }]);
    const done = decideCache(busy.state, {
      type: 'umount-done',
      mountPoint: MP,
      ok: true,
      lazy: true,
      nowMs: 7000,
    });
    expect(done.actions).toEqual([
      { type: 'fsck', device: '/dev/sdb1', timeoutMs: DEFAULT_CACHE_CONFIG.fsckTimeoutMs },
    ]);
  });

  it('detaches the mount at once when the cache disk vanishes', () => {
    const up = run([disks([disk('sda', 'ok')]), fsck('/dev/sda1', 0), mounted('/dev/sda1')]);
    expect(run([disks([])], up.state).actions).toEqual([
      { type: 'stop-using-cache', disk: 'sda' },
      { type: 'umount', mountPoint: MP, lazy: true },
      { type: 'alert', level: 'critical', message: 'cache disk sda has vanished: unmounting it' },
    ]);
  });

  it('adopts a cache already mounted at the mount point without checking it again', () => {
    const { state, actions } = run([disks([disk('sda', 'ok', { mountedAt: MP })])]);
    expect(actions).toEqual([{ type: 'use-cache', mountPoint: MP, disk: 'sda' }]);
    expect(state.phase).toBe('mounted');
  });

  it('does nothing with no disk at all: no cache, nothing waits', () => {
    expect(run([disks([])])).toEqual({ state: INITIAL_CACHE_STATE, actions: [] });
  });

  it('does not mount a disk that turned failing while fsck ran', () => {
    const { state, actions } = run([
      disks([disk('sda', 'ok')]),
      disks([disk('sda', 'failing')]),
      fsck('/dev/sda1', 0),
    ]);
    expect(actions).toHaveLength(1);
    expect(state.rejected['/dev/sda1']!.reason).toBe('disk turned failing');
  });
});

describe('cache candidates', () => {
  it('takes SATA disks only, their largest partition, their verdict and where it is mounted', () => {
    const sda = {
      name: 'sda',
      devPath: '/dev/sda',
      transport: 'sata' as const,
      model: 'M',
      serial: 'S1',
      sizeBytes: 1e12,
      removable: false,
      readOnly: false,
      partitions: [
        { name: 'sda1', number: 1, sizeBytes: 1e9, startSector: 2048 },
        { name: 'sda2', number: 2, sizeBytes: 9e11, startSector: 4096 },
      ],
      sysPath: '',
    };
    const mmc = {
      ...sda,
      name: 'mmcblk0',
      devPath: '/dev/mmcblk0',
      transport: 'mmc' as const,
      partitions: [],
    };
    const verdict = { verdict: 'ok' as const, reasons: [], temperatureC: 30, counters: {}, asleep: false };
    expect(
      cacheCandidates([mmc, sda], new Map([['/dev/sda', verdict]]), [
        { source: '/dev/sda2', target: MP, fstype: 'ext4', options: [] },
      ]),
    ).toEqual([
      { disk: 'sda', serial: 'S1', device: '/dev/sda2', verdict: 'ok', reasons: [], mountedAt: MP },
    ]);
  });
});

describe('cache disk executor', () => {
  const ok: CommandResult = { exitCode: 0, stdout: '', stderr: '' };

  it('runs fsck, mkdir and mount through the injected runners and reports the cache in use', async () => {
    const calls: string[] = [];
    const used: (string | null)[] = [];
    const run: CommandRunner = (file, args) => {
      calls.push([file, ...args].join(' '));
      return Promise.resolve(ok);
    };
    const care = new CacheDiskCare({
      run,
      ensureDir: (p) => (calls.push(`mkdir -p ${p}`), Promise.resolve()),
      onAlert: () => undefined,
      onUse: (mp) => used.push(mp),
      fsckCommand: ['e2fsck', '-p'],
    });
    await care.update([disk('sda', 'ok')]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['e2fsck -p /dev/sda1', `mkdir -p ${MP}`, `mount -o noatime /dev/sda1 ${MP}`]);
    expect(used).toEqual([MP]);
    expect(care.current().phase).toBe('mounted');
  });

  it('returns at once while fsck is still running, so the boot goes on', async () => {
    const care = new CacheDiskCare({
      run: () => new Promise<CommandResult>(() => undefined),
      ensureDir: () => Promise.resolve(),
      onAlert: () => undefined,
      onUse: () => undefined,
    });
    await care.update([disk('sda', 'ok')]);
    expect(care.current().phase).toBe('checking');
  });

  it('reports a failed mount as an alert with mount’s own message', async () => {
    const alerts: string[] = [];
    const care = new CacheDiskCare({
      run: (file) =>
        Promise.resolve(
          file === 'mount'
            ? { exitCode: 32, stdout: '', stderr: 'mount: wrong fs type, bad superblock\n' }
            : ok,
        ),
      ensureDir: () => Promise.resolve(),
      onAlert: (level, m) => alerts.push(`${level}: ${m}`),
      onUse: () => undefined,
    });
    await care.update([disk('sda', 'ok')]);
    await new Promise((r) => setImmediate(r));
    expect(alerts).toEqual(['warning: mounting /dev/sda1 failed: mount: wrong fs type, bad superblock']);
    expect(care.current().phase).toBe('idle');
  });
});
