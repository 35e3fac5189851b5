import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KernelRoot } from '../../../drivers/proc/kernel-root.js';

const dir = fileURLToPath(new URL('../../fixtures/proc/arm64-board/', import.meta.url));

describe('kernel root (synchronous reads of procfs and sysfs)', () => {
  const root = new KernelRoot(dir);

  it('reads, lists and follows links like a directory root', async () => {
    expect(await root.readText('/proc/loadavg')).toBe('0.42 0.37 0.31 2/131 30188\n');
    expect(await root.list('sys/class/thermal')).toEqual(['thermal_zone0', 'thermal_zone1']);
    expect(await root.link('sys/block/sda')).toMatch(/\/ata1\//);
    expect(await root.readText('sys/block/sda/size')).toBe('1953525168\n');
  });

  it('rejects (does not throw) with ENOENT for a missing file, and stays inside its directory', async () => {
    await expect(root.readText('proc/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(root.list('sys/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(root.readText('../../../../etc/hostname')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('re-reads a kept-open proc file from the start, seeing new and shorter content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kroot-'));
    await mkdir(join(dir, 'proc'));
    await writeFile(join(dir, 'proc', 'uptime'), '100.00 300.00\n');
    const kr = new KernelRoot(dir);
    expect(await kr.readText('proc/uptime')).toBe('100.00 300.00\n');
    await writeFile(join(dir, 'proc', 'uptime'), '7.5 1\n');
    expect(await kr.readText('proc/uptime')).toBe('7.5 1\n');
    await writeFile(join(dir, 'proc', 'uptime'), 'x'.repeat(200_000));
    expect((await kr.readText('proc/uptime')).length).toBe(200_000);
    kr.close();
  });
});
