import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { FileRoot } from '../fileroot/file-root.js';

/**
 * A FileRoot over the real `/proc` and `/sys` that reads synchronously. Their files are generated in memory by the
 * kernel in microseconds and never wait on a disk, while Node's promise-based readFile spends about six times more
 * CPU on thread-pool round trips (open, stat, read, close) than the read itself: at one sample a second on a small
 * ARM core that difference is the whole budget. Use it for procfs and sysfs of on-chip devices only; a sensor
 * behind a slow bus (hwmon over I2C) belongs on an asynchronous root.
 *
 * Files under `proc/` stay open and are re-read from offset 0 (the kernel regenerates a seq_file on every read from
 * the start), one system call per read instead of five. sysfs files are opened each time: their devices come and go.
 */
export class KernelRoot implements FileRoot {
  private readonly fds = new Map<string, number>();
  private buf = Buffer.allocUnsafe(64 * 1024);

  constructor(readonly dir: string = '/') {}

  private resolve(path: string): string {
    const rel = normalize(path).replace(/^(\.\.(\/|$))+/, '');
    return join(this.dir, rel);
  }

  readText(path: string): Promise<string> {
    try {
      const full = this.resolve(path);
      if (!full.startsWith(join(this.dir, 'proc') + '/')) return Promise.resolve(readFileSync(full, 'utf8'));
      return Promise.resolve(this.reread(full));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private reread(full: string): string {
    let fd = this.fds.get(full);
    if (fd === undefined) {
      fd = openSync(full, 'r');
      this.fds.set(full, fd);
    }
    try {
      let n = 0;
      for (;;) {
        const got = readSync(fd, this.buf, n, this.buf.length - n, n);
        n += got;
        if (got === 0 || n < this.buf.length) break;
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, n);
        this.buf = bigger;
      }
      return this.buf.toString('utf8', 0, n);
    } catch (err) {
      this.fds.delete(full);
      closeSync(fd);
      throw err;
    }
  }

  list(path: string): Promise<string[]> {
    try {
      return Promise.resolve(readdirSync(this.resolve(path)));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  link(path: string): Promise<string> {
    try {
      return Promise.resolve(readlinkSync(this.resolve(path)));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Closes the files kept open. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}
