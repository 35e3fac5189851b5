// `skyminer-image bundle`: made from a small card image, checked by `bundle verify` as an owner would run it.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main, type CommandIo } from '../../../images/cli/skyminer-image.js';
import { inputDigest } from '../../../images/layout/identity.js';
import { assembleImage } from '../../../images/layout/image.js';
import { StagingTree } from '../../../images/rootfs/staging.js';

function capture(): CommandIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

let dir: string;
let image: string;
let key: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-cli-'));
  const tree = new StagingTree();
  tree.file('/etc/skyminer/image-release', 'PROFILE=qemu-virt-arm64\nARCH=aarch64\nFIRMWARE_VERSION=0.4.0\n');
  tree.file('/usr/lib/skyminer/package.json', '{"version":"0.4.0"}\n');
  await writeFile(join(dir, 'vmlinuz'), 'kernel stand-in\n');
  image = join(dir, 'card.img');
  await assembleImage({
    out: image,
    workDir: join(dir, 'work'),
    epoch: 1_700_000_000,
    digest: inputDigest(['bundle-cli-test']),
    firstPartitionMib: 4,
    bootMib: 34,
    rootFreeMib: 8,
    slotMib: 64,
    dataMib: 16,
    dataDir: '/var/lib/skyminer',
    bootFiles: [{ path: 'vmlinuz', source: join(dir, 'vmlinuz') }],
    root: tree,
  });
  key = join(dir, 'signing.pem');
  const io = capture();
  expect(await main(['bundle', 'key', key], io)).toBe(0);
  expect(io.stdout).toMatch(/^.*signing\.pem: key [0-9a-f]{16} \(public half in .*signing\.pem\.pub\)\n$/);
});

describe('skyminer-image bundle', () => {
  it('makes a bundle from an image that verify accepts, naming version, profile and key', async () => {
    const io = capture();
    const out = join(dir, 'good.bundle');
    expect(await main(['bundle', image, '--key', key, '--out', out], io)).toBe(0);
    expect(io.stdout).toBe(`${out}\n`);
    const v = capture();
    expect(await main(['bundle', 'verify', out, '--keys', `${key}.pub`], v)).toBe(0);
    expect(v.stdout).toMatch(
      /^good\.bundle: firmware 0\.4\.0 for qemu-virt-arm64, signed by key [0-9a-f]{16}\n$/,
    );
  });

  it('refuses a tampered bundle with exit 1 and one line', async () => {
    const out = join(dir, 'tampered.bundle');
    expect(await main(['bundle', image, '--key', key, '--out', out], capture())).toBe(0);
    const bytes = await readFile(out);
    bytes[bytes.length - 200]! ^= 0xff;
    await writeFile(out, bytes);
    const v = capture();
    expect(await main(['bundle', 'verify', out, '--keys', `${key}.pub`], v)).toBe(1);
    expect(v.stderr).toMatch(/^skyminer-image bundle: tampered\.bundle refused: payload damaged[^\n]*\n$/);
  });

  it('refuses a bundle for another board or older than the running firmware', async () => {
    const out = join(dir, 'other.bundle');
    expect(await main(['bundle', image, '--key', key, '--out', out], capture())).toBe(0);
    const p = capture();
    expect(
      await main(['bundle', 'verify', out, '--keys', `${key}.pub`, '--profile', 'orangepi-plus'], p),
    ).toBe(1);
    expect(p.stderr).toBe(
      'skyminer-image bundle: other.bundle refused: for profile qemu-virt-arm64; this board is orangepi-plus\n',
    );
    const o = capture();
    expect(
      await main(['bundle', 'verify', out, '--keys', `${key}.pub`, '--running-version', '0.5.0'], o),
    ).toBe(1);
    expect(o.stderr).toContain('refused: firmware 0.4.0 is older than the running 0.5.0');
  });

  it('never overwrites a signing key', async () => {
    const before = await readFile(key, 'utf8');
    const io = capture();
    expect(await main(['bundle', 'key', key], io)).toBe(1);
    expect(io.stderr).toBe(`skyminer-image bundle: ${key} exists; a signing key is never overwritten\n`);
    expect(await readFile(key, 'utf8')).toBe(before);
  });

  it('says which file is not a card image', async () => {
    const io = capture();
    expect(await main(['bundle', `${key}.pub`, '--key', key], io)).toBe(1);
    expect(io.stderr).toMatch(/^skyminer-image bundle: .*signing\.pem\.pub: not a card image/);
  });
});
