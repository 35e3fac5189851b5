import type { SmartReading } from '../../drivers/disks/smartctl.js';
import { DEFAULT_SMART_LIMITS, smartVerdict, type SmartLimits, type SmartVerdict } from './smart-verdict.js';

/** A disk to poll: its device node and, when known, its serial (a new serial under the same name is a new disk). */
export interface PolledDisk {
  devPath: string;
  serial?: string | null;
}

export interface SmartPollerOptions {
  /** Time between the end of one round and the start of the next. SMART changes slowly: default 30 minutes. */
  periodMs?: number;
  /** Reads one disk, e.g. `(dev) => readSmart(dev, { runner })`. Must not reject; a rejection reads as unknown. */
  read: (devPath: string) => Promise<SmartReading>;
  /** The disks present now (from the disk watcher). */
  disks: () => PolledDisk[];
  limits?: SmartLimits;
  /** Called after every reading with the new and the previous verdict of that disk. */
  onVerdict?: (devPath: string, verdict: SmartVerdict, previous: SmartVerdict | null) => void;
}

export const DEFAULT_SMART_PERIOD_MS = 30 * 60 * 1000;

/**
 * Polls SMART on a slow period, one disk at a time (smartctl on several disks at once stalls a small board's I/O),
 * and keeps the last verdict per disk so growth is measured and a sleeping disk keeps its verdict.
 */
export class SmartPoller {
  private readonly state = new Map<string, { key: string; verdict: SmartVerdict }>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private running = false;

  constructor(private readonly opts: SmartPollerOptions) {}

  /** Polls every disk now, then every period after each round ends. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The last verdict of a disk, or null if it was never read. */
  verdict(devPath: string): SmartVerdict | null {
    return this.state.get(devPath)?.verdict ?? null;
  }

  verdicts(): Map<string, SmartVerdict> {
    return new Map([...this.state].map(([dev, s]) => [dev, s.verdict]));
  }

  /** One round over the current disks; concurrent callers share the round in progress. */
  pollAll(): Promise<void> {
    this.round ??= this.doRound().finally(() => (this.round = null));
    return this.round;
  }

  /** Reads one disk now, e.g. one the watcher just found. */
  async pollDisk(disk: PolledDisk): Promise<SmartVerdict> {
    const key = `${disk.devPath}|${disk.serial ?? ''}`;
    const known = this.state.get(disk.devPath);
    const previous = known && known.key === key ? known.verdict : null;
    let reading: SmartReading;
    try {
      reading = await this.opts.read(disk.devPath);
    } catch (err) {
      const error = `SMART read failed: ${err instanceof Error ? err.message : String(err)}`;
      reading = {
        device: disk.devPath,
        error,
        exitStatus: null,
        messages: [],
        standby: false,
        protocol: 'unknown',
      };
    }
    const verdict = smartVerdict(reading, previous, this.opts.limits ?? DEFAULT_SMART_LIMITS);
    this.state.set(disk.devPath, { key, verdict });
    this.opts.onVerdict?.(disk.devPath, verdict, previous);
    return verdict;
  }

  private async doRound(): Promise<void> {
    const disks = this.opts.disks();
    const present = new Set(disks.map((d) => d.devPath));
    for (const dev of this.state.keys()) if (!present.has(dev)) this.state.delete(dev);
    for (const disk of disks) await this.pollDisk(disk);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.pollAll().finally(() => {
        if (this.running) this.schedule(this.opts.periodMs ?? DEFAULT_SMART_PERIOD_MS);
      });
    }, delayMs);
  }
}
