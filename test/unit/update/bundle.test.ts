import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type RootSource } from '../../../images/bundle/make.js';
import {
  BUNDLE_MAGIC,
  encodeHeader,
  manifestBytes,
  readBundle,
  type BundleManifest,
  type BundlePolicy,
} from '../../../firmware/update/bundle.js';
import { keyId } from '../../../firmware/update/keys.js';

let dir: string;
let root: Buffer;
let vendor: KeyObject;
let stranger: KeyObject;
let good: Buffer;
let manifest: BundleManifest;
let goodManifest: BundleManifest;

const policy = (): BundlePolicy => ({
  keys: new Map([[keyId(vendor), vendor]]),
  profile: 'qemu-virt-arm64',
  runningVersion: '1.2.0',
});

async function bundleOf(key: KeyObject, over: Partial<RootSource> = {}): Promise<Buffer> {
  const file = join(dir, `root-${Math.random().toString(36).slice(2)}`);
  await writeFile(file, root);
  const src: RootSource = {
    file,
    offset: 0,
    bytes: root.length,
    firmware: '1.3.0',
    profile: 'qemu-virt-arm64',
    arch: 'aarch64',
    ...over,
  };
  const made = await makeBundle(src, key, `${file}.bundle`, 1_700_000_000);
  manifest = made.manifest;
  return readFile(made.file);
}

async function check(
  bytes: Buffer,
  p: BundlePolicy = policy(),
): Promise<{ root: Buffer; m: BundleManifest }> {
  const chunks: Buffer[] = [];
  // Fed in small pieces, as a download arrives.
  async function* pieces() {
    for (let i = 0; i < bytes.length; i += 777) yield bytes.subarray(i, i + 777);
  }
  const m = await readBundle(pieces(), p, { sink: (c) => void chunks.push(Buffer.from(c)) });
  return { root: Buffer.concat(chunks), m };
}

/** Where the payload starts: after magic, length, manifest, signature length and signature. */
function payloadStart(bytes: Buffer): number {
  const len = bytes.readUInt32BE(8);
  return 12 + len + 2 + bytes.readUInt16BE(12 + len);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bundle-'));
  // A root with structure (text and zeros), so the gzip payload is much smaller than it.
  root = Buffer.concat([Buffer.from('ext4 stand-in '.repeat(5000)), Buffer.alloc(300_000)]);
  vendor = generateKeyPairSync('ed25519').privateKey;
  stranger = generateKeyPairSync('ed25519').privateKey;
  good = await bundleOf(vendor);
  goodManifest = manifest;
});

describe('update bundle', () => {
  it('hands over the root image byte for byte when the bundle is sound', async () => {
    const { root: got, m } = await check(good);
    expect(got.equals(root)).toBe(true);
    expect(m.firmware).toBe('1.3.0');
    expect(m.payload.bytes).toBeLessThan(root.length / 10);
  });

  it('verifies from a file stream as well', async () => {
    const file = join(dir, 'good.bundle');
    await writeFile(file, good);
    await expect(readBundle(createReadStream(file), policy())).resolves.toMatchObject({ firmware: '1.3.0' });
  });

  it('is the same bytes when made twice from the same root and key', async () => {
    expect((await bundleOf(vendor)).equals(good)).toBe(true);
  });

  it('refuses a file that is not a bundle', async () => {
    await expect(check(Buffer.from('hello, this is an image\n'))).rejects.toThrow(
      'not an update bundle (no SKYBNDL1 at its start)',
    );
  });

  it('refuses an unsigned bundle', async () => {
    const json = manifestBytes(goodManifest);
    const unsigned = Buffer.concat([encodeHeader(json, Buffer.alloc(0)), good.subarray(payloadStart(good))]);
    await expect(check(unsigned)).rejects.toThrow('unsigned: the bundle carries no signature');
  });

  it('refuses a bundle signed by a key the board does not trust', async () => {
    const other = await bundleOf(stranger);
    await expect(check(other)).rejects.toThrow(
      `signed by key ${keyId(stranger)}, which this board does not trust`,
    );
  });

  it('refuses every bundle when the board trusts no key', async () => {
    await expect(check(good, { ...policy(), keys: new Map() })).rejects.toThrow(
      'this board trusts no update key',
    );
  });

  it('refuses a manifest changed after signing', async () => {
    const forged = { ...goodManifest, firmware: '9.9.9' };
    const json = manifestBytes(forged);
    const sig = good.subarray(12 + good.readUInt32BE(8) + 2, payloadStart(good));
    const tampered = Buffer.concat([encodeHeader(json, sig), good.subarray(payloadStart(good))]);
    await expect(check(tampered)).rejects.toThrow(
      'wrongly signed: the signature does not match the manifest',
    );
  });

  it('refuses a bundle whose signature was damaged', async () => {
    const bad = Buffer.from(good);
    bad[payloadStart(good) - 5]! ^= 0x01;
    await expect(check(bad)).rejects.toThrow('wrongly signed');
  });

  it('refuses a payload changed after signing', async () => {
    const bad = Buffer.from(good);
    bad[payloadStart(good) + 100]! ^= 0x40;
    await expect(check(bad)).rejects.toThrow(/^payload damaged/);
  });

  it('refuses a bundle cut short inside the payload, saying how much arrived', async () => {
    const cut = good.subarray(0, good.length - 10);
    await expect(check(cut)).rejects.toThrow(
      `truncated: ${goodManifest.payload.bytes - 10} of the payload's ${goodManifest.payload.bytes} bytes`,
    );
  });

  it('refuses a bundle cut short inside its manifest', async () => {
    await expect(check(good.subarray(0, 40))).rejects.toThrow('truncated: the file ends inside its manifest');
  });

  it('refuses bytes after the payload', async () => {
    await expect(check(Buffer.concat([good, Buffer.from('extra')]))).rejects.toThrow(
      'bytes after the payload',
    );
  });

  it('refuses a bundle for another profile', async () => {
    await expect(check(good, { ...policy(), profile: 'pine64-sopine' })).rejects.toThrow(
      'for profile qemu-virt-arm64; this board is pine64-sopine',
    );
  });

  it('refuses a bundle older than the running firmware, and takes the same version again', async () => {
    await expect(check(good, { ...policy(), runningVersion: '1.10.0' })).rejects.toThrow(
      'firmware 1.3.0 is older than the running 1.10.0',
    );
    await expect(check(good, { ...policy(), runningVersion: '1.3.0' })).resolves.toBeTruthy();
  });

  it('refuses a manifest that does not follow the format, naming the field', async () => {
    const json = Buffer.from(JSON.stringify({ ...goodManifest, firmware: 'latest' }));
    const bad = Buffer.concat([encodeHeader(json, Buffer.alloc(64)), good.subarray(payloadStart(good))]);
    await expect(check(bad)).rejects.toThrow(
      'malformed manifest: firmware: expected a version such as 1.2.3',
    );
  });

  it('starts with the magic the format names', () => {
    expect(good.subarray(0, 8).equals(BUNDLE_MAGIC)).toBe(true);
  });
});
