import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plainProgress, TerminalProgress } from '../../../images/cli/progress.js';
import { filterFile } from '../../../images/lib/tools.js';

function terminal(columns = 80) {
  const writes: string[] = [];
  return { writes, out: { isTTY: true, columns, write: (t: string) => writes.push(t) } };
}

describe('build progress', () => {
  it('keeps the log lines and redraws one live line under them with the stage, how far and how long', () => {
    let now = 0;
    const { writes, out } = terminal();
    const p = new TerminalProgress(out, { now: () => now, tick: false });
    p.line('skyminer-image: [12.0s] compressing (xz)');
    now = 1500;
    p.update(0.456, '120/260 MiB');
    now = 1550;
    p.update(0.5, '130/260 MiB'); // within 100 ms of the last draw: not drawn
    p.line('skyminer-image: [40.2s] done');
    p.end();
    expect(writes).toEqual([
      'skyminer-image: [12.0s] compressing (xz)\n',
      '\r\x1b[K  ... compressing (xz) (0s)',
      '\r\x1b[K  ... compressing (xz) 45% 120/260 MiB (1s)',
      '\r\x1b[K',
      'skyminer-image: [40.2s] done\n',
      '\r\x1b[K  ... done (0s)',
      '\r\x1b[K',
    ]);
  });

  it('never wraps the live line on a narrow terminal', () => {
    const { writes, out } = terminal(24);
    new TerminalProgress(out, { now: () => 0, tick: false }).line('cross-building node-pty for aarch64');
    expect(writes[1]).toBe('\r\x1b[K  ... cross-building n~');
  });

  it('prints only the plain lines where the output is not a terminal', () => {
    const writes: string[] = [];
    const p = plainProgress({ write: (t: string) => writes.push(t) });
    p.line('skyminer-image: compressing (xz)');
    p.update(0.5, 'half');
    p.end();
    expect(writes).toEqual(['skyminer-image: compressing (xz)\n']);
  });
});

describe('filterFile', () => {
  it('compresses through xz, reporting the bytes read, and the result decompresses to the input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filter-'));
    const src = join(dir, 'image');
    const data = Buffer.alloc(3 << 20, 0x5a);
    await writeFile(src, data);
    const reads: number[] = [];
    await filterFile('xz', ['-3', '-c'], src, join(dir, 'image.xz'), (n) => reads.push(n));
    expect(reads.at(-1)).toBe(data.length);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    const back = execFileSync('xz', ['-dc', join(dir, 'image.xz')], { maxBuffer: 16 << 20 });
    expect(back.equals(data)).toBe(true);
  });

  it('leaves no output, not even a partial one, when the tool fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filter-'));
    const src = join(dir, 'image');
    await writeFile(src, 'data');
    await expect(
      filterFile('sh', ['-c', 'cat >/dev/null; echo "disk full" >&2; exit 3'], src, join(dir, 'out')),
    ).rejects.toThrow('sh -c cat >/dev/null; echo "disk full" >&2; exit 3 failed (exit 3): disk full');
    expect(await readdir(dir)).toEqual(['image']);
  });

  it('says a missing tool is not found, in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filter-'));
    await writeFile(join(dir, 'image'), 'data');
    await expect(
      filterFile('skyminer-no-such-tool', [], join(dir, 'image'), join(dir, 'out')),
    ).rejects.toThrow(/^skyminer-no-such-tool not found$/);
    expect(await readdir(dir)).toEqual(['image']);
  });
});
