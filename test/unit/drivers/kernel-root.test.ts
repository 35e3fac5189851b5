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
});
