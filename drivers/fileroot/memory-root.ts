import { notFound, type FileRoot } from './file-root.js';

/** An in-memory FileRoot whose files may be fixed text or computed at read time (emulated /proc). */
export class MemoryRoot implements FileRoot {
  private readonly files = new Map<string, string | (() => string)>();
  private readonly links = new Map<string, string>();

  set(path: string, content: string | (() => string)): this {
    this.files.set(trim(path), content);
    return this;
  }

  setLink(path: string, target: string): this {
    this.links.set(trim(path), target);
    return this;
  }

  delete(path: string): void {
    const p = trim(path);
    for (const key of [...this.files.keys(), ...this.links.keys()]) {
      if (key === p || key.startsWith(p + '/')) {
        this.files.delete(key);
        this.links.delete(key);
      }
    }
  }

  readText(path: string): Promise<string> {
    const content = this.files.get(trim(path));
    if (content === undefined) return Promise.reject(notFound(path));
    return Promise.resolve(typeof content === 'function' ? content() : content);
  }

  list(path: string): Promise<string[]> {
    const prefix = trim(path) === '' ? '' : trim(path) + '/';
    const names = new Set<string>();
    for (const key of [...this.files.keys(), ...this.links.keys()]) {
      if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split('/')[0]!);
    }
    if (names.size === 0) return Promise.reject(notFound(path));
    return Promise.resolve([...names].sort());
  }

  link(path: string): Promise<string> {
    const target = this.links.get(trim(path));
    return target === undefined ? Promise.reject(notFound(path)) : Promise.resolve(target);
  }
}

function trim(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
