import { mkdir } from 'node:fs/promises';
import { listSataDisks, type BlockDisk } from '../../drivers/disks/block-devices.js';
import { spawnRunner, type CommandRunner } from '../../drivers/disks/command-runner.js';
import { mountsOf, readMounts, type Mount } from '../../drivers/disks/mounts.js';
import { readSmart } from '../../drivers/disks/smartctl.js';
import { diskUsage, realStatfs, type DiskUsage, type StatFs } from '../../drivers/disks/usage.js';
import { DiskWatcher } from '../../drivers/disks/watcher.js';
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { CacheDiskCare, cacheCandidates, DEFAULT_CACHE_CONFIG, type CacheConfig } from './cache-disk.js';
import { diskReport, type DiskReport } from './disk-report.js';
import { SmartPoller } from './smart-poller.js';

export interface DiskServiceOptions {
  board: number;
  /** The board's `/` (a KernelRoot on the device, the emulated board's tree in the simulator). */
  root: FileRoot;
  /** The smartctl executable; the simulator points it at a stand-in that answers from JSON files. */
  smartctl?: string;
  /** Runs smartctl, fsck, mount and umount. */
  run?: CommandRunner;
  statfs?: StatFs;
  ensureDir?: (path: string) => Promise<void>;
  smartPeriodMs?: number;
  scanPeriodMs?: number;
  cache?: CacheConfig;
  logger?: Logger;
  /** A disk turned failing, the cache was given up, and the like. */
  onAlert?: (level: 'info' | 'warning' | 'critical', message: string) => void;
}

/**
 * The agent's disk care: discovery every few seconds, SMART on a slow period (and at once for a new disk),
 * the content-cache decisions, and the per-disk reports that ride in heartbeats. Nothing here blocks the
 * board: every step runs in the background and a failure only means an `unknown` verdict or no cache.
 */
export class DiskService {
  private readonly watcher: DiskWatcher;
  private readonly poller: SmartPoller;
  private readonly care: CacheDiskCare;
  private readonly logger: Logger;
  private mounts: Mount[] = [];
  private usage = new Map<string, DiskUsage>();
  private latest: DiskReport[] = [];
  private refreshing: Promise<void> | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DiskServiceOptions) {
    this.logger = opts.logger ?? silentLogger;
    const run = opts.run ?? spawnRunner;
    this.poller = new SmartPoller({
      periodMs: opts.smartPeriodMs,
      disks: () => this.watcher.current().filter((d) => d.transport === 'sata'),
      read: (dev) => readSmart(dev, { runner: run, command: opts.smartctl }),
      onVerdict: (dev, verdict, previous) => {
        if (previous && previous.verdict !== verdict.verdict) {
          const level = verdict.verdict === 'failing' ? 'critical' : 'warning';
          const message = `disk ${dev} is now ${verdict.verdict}: ${verdict.reasons.join('; ') || 'no reason given'}`;
          opts.onAlert?.(level, message);
        }
        void this.refresh();
      },
    });
    this.watcher = new DiskWatcher(opts.root, {
      periodMs: opts.scanPeriodMs ?? 3000,
      list: listSataDisks,
      onChange: (changes) => {
        for (const d of changes.added) void this.poller.pollDisk(d);
        for (const d of changes.removed) opts.onAlert?.('warning', `disk ${d.name} was removed`);
        void this.refresh();
      },
      onError: (m) => this.logger.warn(`board ${opts.board}: ${m}`),
    });
    this.care = new CacheDiskCare(
      {
        run,
        ensureDir: opts.ensureDir ?? ((p) => mkdir(p, { recursive: true }).then(() => undefined)),
        onAlert: (level, message) => opts.onAlert?.(level, message),
        onUse: (mountPoint, disk) =>
          this.logger.info(
            `board ${opts.board}: content cache ${mountPoint ? `on ${disk} at ${mountPoint}` : 'off'}`,
          ),
      },
      opts.cache ?? DEFAULT_CACHE_CONFIG,
    );
  }

  async start(): Promise<void> {
    await this.watcher.start();
    this.poller.start();
    // Usage and mounts change without any disk event; keep the reports as fresh as the discovery.
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.scanPeriodMs ?? 3000);
  }

  stop(): void {
    this.watcher.stop();
    this.poller.stop();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
  }

  /** The latest report per disk, as `skyminer disks --json` prints it. */
  reports(): DiskReport[] {
    return this.latest;
  }

  /** Re-reads mounts and usage, rebuilds the reports and feeds the cache decisions. Overlapping calls share one. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const disks = this.watcher.current();
    try {
      this.mounts = await readMounts(this.opts.root);
    } catch (err) {
      this.logger.warn(`board ${this.opts.board}: cannot read the mount table: ${(err as Error).message}`);
    }
    await this.care.update(cacheCandidates(disks, this.poller.verdicts(), this.mounts));
    const usage = new Map<string, DiskUsage>();
    for (const disk of disks) {
      const mount = mountsOf(disk, this.mounts)[0];
      if (!mount) continue;
      try {
        usage.set(disk.name, await diskUsage(mount.target, this.opts.statfs ?? realStatfs));
      } catch {
        // A mount that vanished between the two reads: no usage figure this round.
      }
    }
    this.usage = usage;
    this.latest = disks.map((d: BlockDisk) =>
      diskReport(
        this.opts.board,
        d,
        this.poller.verdict(d.devPath),
        mountsOf(d, this.mounts),
        this.usage.get(d.name) ?? null,
      ),
    );
  }
}
