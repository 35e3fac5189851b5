// Every production dependency ships in each image's node_modules: one that no firmware module imports is dead weight
// on the card (and, with a native addon, a cross-build of nothing).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..', '..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(repo, dir), { withFileTypes: true, recursive: true }))
    if (entry.isFile() && entry.name.endsWith('.ts')) out.push(join(entry.parentPath, entry.name));
  return out;
}

describe('production dependencies', () => {
  it('are each imported by the firmware or its drivers', async () => {
    const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const files = [...(await sources('firmware')), ...(await sources('drivers'))];
    const text = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
    const unused = Object.keys(pkg.dependencies).filter(
      (name) =>
        !new RegExp(
          `(from|import\\(|require\\()\\s*'${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(/[^']*)?'`,
        ).test(text),
    );
    expect(unused).toEqual([]);
  });
});
