import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../images/cli/skyminer-image.js';
import { makeKey, writeKeysDir, writeRepository } from '../../lib/apk-builder.js';
import { BASE } from './fixtures.js';

let dir: string;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-cli-'));
  const key = makeKey('skyminer-test-61a0.rsa.pub');
  await writeKeysDir(join(dir, 'keys'), key);
  await writeRepository(join(dir, 'repo'), BASE, key);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const common = (): string[] => [
  'apk',
  '--root',
  join(dir, 'root'),
  '--repository',
  join(dir, 'repo'),
  '--keys-dir',
  join(dir, 'keys'),
  '--arch',
  'aarch64',
];

describe('skyminer-image apk', () => {
  it('adds packages and then lists them with info', async () => {
    const add = await run(...common(), 'add', 'busybox-binsh');
    expect(add).toMatchObject({ code: 0, err: '' });
    expect(add.out).toContain(
      'installed musl-1.2.5-r0\ninstalled busybox-1.36.1-r29\ninstalled busybox-binsh-1.36.1-r29\n',
    );
    expect(add.out).toContain(`owners and modes: ${join(dir, 'root.manifest.json')}\n`);
    const info = await run('apk', '--root', join(dir, 'root'), 'info');
    expect(info).toEqual({
      code: 0,
      out: 'musl-1.2.5-r0\nbusybox-1.36.1-r29\nbusybox-binsh-1.36.1-r29\n',
      err: '',
    });
  });

  it('prints a one-line reason and exits 1 when it refuses', async () => {
    await writeFile(join(dir, 'repo/aarch64/app-2.0-r1.apk'), 'not a package');
    const r = await run(...common(), 'add', 'app');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^skyminer-image apk: app-2\.0-r1: file is 13 bytes, the index says \d+ \(truncated or replaced\)\n$/,
    );
  });

  it('explains its usage when arguments are missing or unknown', async () => {
    expect((await run('apk', 'info')).code).toBe(2);
    expect((await run(...common(), 'add')).err).toContain('add needs at least one package');
    expect((await run('bogus')).code).toBe(2);
    expect((await run('--help')).out).toContain('apk            install Alpine packages into an image root');
  });
});
