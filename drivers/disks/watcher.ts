import type { FileRoot } from '../fileroot/file-root.js';
import { listBlockDisks, type BlockDisk } from './block-devices.js';

export interface DiskChanges {
  added: BlockDisk[];
  removed: BlockDisk[];
}

/** A disk is the same disk while its name, serial and size stay; a swap under the same name is remove + add. */
function identity(d: BlockDisk): string {
  return `${d.name}|${d.serial ?? ''}|${d.sizeBytes}`;
}

export function diffDisks(prev: BlockDisk[], next: BlockDisk[]): DiskChanges {
  const before = new Set(prev.map(identity));
  const after = new Set(next.map(identity));
  return {
    added: next.filter((d) => !before.has(identity(d))),
    removed: prev.filter((d) => !after.has(identity(d))),
  };
}

export interface DiskWatcherOptions {
  periodMs?: number;
  /** Which disks to watch; default all real block disks. */
  list?: (root: FileRoot) => Promise<BlockDisk[]>;
  onChange: (changes: DiskChanges, disks: BlockDisk[]) => void;
  onError?: (message: string) => void;
}

/** Re-scans `sys/block` every few seconds and reports disks that appeared or vanished. */
export class DiskWatcher {
  private disks: BlockDisk[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scanning = false;

  constructor(
    private readonly root: FileRoot,
    private readonly opts: DiskWatcherOptions,
  ) {}

  /** The disks seen at the last successful scan. */
  current(): BlockDisk[] {
    return this.disks;
  }

  /** Scans now (the first scan reports every disk as added), then every period. */
  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.scan(), this.opts.periodMs ?? 3000);
    await this.scan();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async scan(): Promise<void> {
    if (this.scanning) return; // a slow sysfs must not pile up scans
    this.scanning = true;
    try {
      const next = await (this.opts.list ?? listBlockDisks)(this.root);
      const changes = diffDisks(this.disks, next);
      this.disks = next;
      if (changes.added.length > 0 || changes.removed.length > 0) this.opts.onChange(changes, next);
    } catch (err) {
      // Keep the last known disks: one failed scan must not look like every disk being pulled.
      this.opts.onError?.(`disk scan failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.scanning = false;
    }
  }
}
