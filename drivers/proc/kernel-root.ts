import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { FileRoot } from '../fileroot/file-root.js';

/**
 * A FileRoot over the real `/proc` and `/sys` that reads synchronously. Their files are generated in memory by the
 * kernel in microseconds and never wait on a disk, while Node's promise-based readFile spends about six times more
 * CPU on thread-pool round trips (open, stat, read, close) than the read itself: at one sample a second on a small
 * ARM core that difference is the whole budget. Use it for procfs and sysfs of on-chip devices only; a sensor
 * behind a slow bus (hwmon over I2C) belongs on an asynchronous root.
 */
export class KernelRoot implements FileRoot {
  constructor(readonly dir: string = '/') {}

  private resolve(path: string): string {
    const rel = normalize(path).replace(/^(\.\.(\/|$))+/, '');
    return join(this.dir, rel);
  }

  readText(path: string): Promise<string> {
    try {
      return Promise.resolve(readFileSync(this.resolve(path), 'utf8'));
    } catch (err) {
      return Promise.reject(err as Error);
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
}
