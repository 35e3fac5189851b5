import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { MemoryRoot } from '../../../drivers/fileroot/memory-root.js';

describe('file roots', () => {
  it('reads computed files fresh on every read', async () => {
    let n = 0;
    const root = new MemoryRoot().set('proc/uptime', () => `${++n}.00 0.00\n`);
    expect(await root.readText('/proc/uptime')).toBe('1.00 0.00\n');
    expect(await root.readText('proc/uptime')).toBe('2.00 0.00\n');
  });

  it('lists the direct children of a directory', async () => {
    const root = new MemoryRoot().set('sys/block/sda/size', '10').set('sys/block/sdb/size', '20');
    expect(await root.list('sys/block')).toEqual(['sda', 'sdb']);
    await expect(root.list('sys/class')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps reads of a directory root inside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'root-'));
    await mkdir(join(dir, 'proc'));
    await writeFile(join(dir, 'proc', 'loadavg'), '0.10 0.20 0.30 1/100 42\n');
    const root = new DirectoryRoot(dir);
    expect(await root.readText('/proc/loadavg')).toContain('0.10');
    await expect(root.readText('../../etc/passwd')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
