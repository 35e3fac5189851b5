import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeVisorBundle } from '../../../images/bundle/visor.js';
import { runSkyminer } from '../../helpers/skyminer.js';
import { compareVersions } from '../../../firmware/rewards/version.js';
import { keyId, publicKeyPem } from '../../../firmware/update/keys.js';
import { readVisorBundleHeader, type VisorBundlePolicy } from '../../../firmware/update/visor-bundle.js';
import { updateVisor } from '../../../firmware/update/visor-install.js';
import {
  fallBack,
  installVisorBundle,
  readSlots,
  visorBinary,
} from '../../../firmware/update/visor-slots.js';

const signer = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
let dir: string;
let binary: string;
let policy: VisorBundlePolicy;

async function bundle(
  version: string,
  o: { arch?: 'arm64' | 'arm'; key?: typeof signer; body?: string } = {},
) {
  const bin = join(dir, `bin-${version}-${Math.random()}`);
  await writeFile(bin, o.body ?? `#!/bin/sh\necho skywire ${version}\n${'x'.repeat(5000)}`);
  const out = join(dir, `skywire-${version}-${Math.random()}.visor`);
  await makeVisorBundle(
    { binary: bin, version, arch: o.arch ?? 'arm64' },
    (o.key ?? signer).privateKey,
    out,
    1,
  );
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'visor-bundle-'));
  binary = join(dir, 'skywire');
  await writeFile(binary, 'image binary');
  policy = {
    keys: new Map([[keyId(signer.publicKey), signer.publicKey]]),
    arch: 'arm64',
    runningVersion: 'v1.3.28',
    compare: compareVersions,
  };
});

describe('visor bundles', () => {
  it('round-trips a signed skywire binary with its version and architecture', async () => {
    const file = await bundle('v1.3.29');
    const { manifest } = await readVisorBundleHeader(file, policy);
    expect(manifest).toMatchObject({
      kind: 'skywire',
      version: 'v1.3.29',
      arch: 'arm64',
      key_id: keyId(signer.publicKey),
    });
  });

  it('refuses unsigned, wrongly keyed, truncated, other-architecture and older bundles with one line each', async () => {
    const refused = (file: string, p: VisorBundlePolicy = policy) =>
      readVisorBundleHeader(file, p).then(
        () => 'taken',
        (e: Error) => e.message,
      );
    const good = await bundle('v1.3.29');
    const unsigned = join(dir, 'unsigned.visor');
    const bytes = await readFile(good);
    const len = bytes.readUInt32BE(8);
    // The signature length zeroed and the signature cut out: an unsigned bundle.
    await writeFile(
      unsigned,
      Buffer.concat([bytes.subarray(0, 12 + len), Buffer.from([0, 0]), bytes.subarray(12 + len + 2 + 64)]),
    );
    expect(await refused(unsigned)).toBe('unsigned: the bundle carries no signature');
    expect(await refused(await bundle('v1.3.29', { key: stranger }))).toMatch(
      /^signed by key [0-9a-f]{16}, which this board does not trust \(trusted: [0-9a-f]{16}\)$/,
    );
    const cut = join(dir, 'cut.visor');
    await writeFile(cut, bytes.subarray(0, bytes.length - 10));
    expect(await refused(cut)).toMatch(/^truncated: \d+ of the payload's \d+ bytes$/);
    await writeFile(cut, bytes.subarray(0, 20));
    expect(await refused(cut)).toBe('truncated: the file ends inside its manifest');
    expect(await refused(await bundle('v1.3.29', { arch: 'arm' }))).toBe(
      'skywire for arm; this board is arm64',
    );
    expect(await refused(await bundle('v1.3.27'))).toBe('skywire v1.3.27 is older than the running v1.3.28');
    const forged = Buffer.from(bytes);
    forged.write('v1.3.99', forged.indexOf('v1.3.29'), 'latin1');
    await writeFile(cut, forged);
    expect(await refused(cut)).toMatch(/^wrongly signed: the signature does not match the manifest/);
    await writeFile(cut, 'SKYBNDL1 firmware');
    expect(await refused(cut)).toBe(
      'a firmware update bundle, not a visor bundle (install it with skyminer update)',
    );
    expect(await refused(join(dir, 'none.visor'))).toMatch(/none\.visor: cannot read \(ENOENT\)$/);
  });
});

describe('visor binaries on the data partition', () => {
  it('runs the image binary until a bundle is installed, then current, keeping the previous beside it', async () => {
    const slots = await mkdtemp(join(dir, 'slots-'));
    expect(await visorBinary(slots, binary)).toBe(binary);
    await installVisorBundle(await bundle('v1.3.29'), policy, slots);
    expect(await visorBinary(slots, binary)).toBe(join(slots, 'current', 'skywire'));
    expect((await stat(join(slots, 'current', 'skywire'))).mode & 0o777).toBe(0o755);
    expect(await readFile(join(slots, 'current', 'skywire'), 'utf8')).toContain('echo skywire v1.3.29');
    await installVisorBundle(await bundle('v1.3.30'), policy, slots);
    const s = await readSlots(slots);
    expect(s.current).toMatch(/^releases\/v1\.3\.30-[0-9a-f]{8}$/);
    expect(s.previous).toMatch(/^releases\/v1\.3\.29-[0-9a-f]{8}$/);
    // Falling back puts the previous binary back, removes the failed one and leaves nothing to fall back to.
    expect(await fallBack(slots)).toEqual({ current: s.previous, previous: null });
    await expect(stat(join(slots, s.current!))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readlink(join(slots, 'current'))).toBe(s.previous);
  });

  it('changes nothing when the bundle is refused or its binary damaged', async () => {
    const slots = await mkdtemp(join(dir, 'slots-'));
    await installVisorBundle(await bundle('v1.3.29'), policy, slots);
    const before = await readSlots(slots);
    const damaged = await bundle('v1.3.31');
    const bytes = await readFile(damaged);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
    await writeFile(damaged, bytes);
    await expect(installVisorBundle(damaged, policy, slots)).rejects.toThrow(/damaged/);
    await expect(installVisorBundle(await bundle('v1.3.20'), policy, slots)).rejects.toThrow('older');
    expect(await readSlots(slots)).toEqual(before);
  });
});

describe('installing a visor bundle on a board', () => {
  const clock = () => {
    const c = { now: 0 };
    return { c, now: () => c.now, sleep: (ms: number) => ((c.now += ms), Promise.resolve()) };
  };

  it('keeps the new binary once the visor answers for the steady time', async () => {
    const slots = await mkdtemp(join(dir, 'slots-'));
    const t = clock();
    const restarts: string[] = [];
    const r = await updateVisor({
      bundle: await bundle('v1.3.29'),
      dir: slots,
      policy,
      restart: async () => void restarts.push((await readSlots(slots)).current ?? 'image'),
      probe: async () => (t.c.now < 10_000 ? { ok: false, problem: 'RPC not answering' } : { ok: true }),
      swap: { limitMs: 120_000, steadyMs: 30_000 },
      probeEveryMs: 5000,
      now: t.now,
      sleep: t.sleep,
    });
    expect(r).toEqual({ outcome: 'kept', version: 'v1.3.29' });
    expect(t.c.now).toBe(40_000);
    expect(restarts).toEqual([expect.stringMatching(/^releases\/v1\.3\.29-/)]);
  });

  it('goes back to the previous binary when the new visor does not stay up, and says why', async () => {
    const slots = await mkdtemp(join(dir, 'slots-'));
    await installVisorBundle(await bundle('v1.3.29'), policy, slots);
    const good = (await readSlots(slots)).current;
    const t = clock();
    const restarts: string[] = [];
    // Up for 10 s after each start, then gone: it never stays the 30 s asked.
    const r = await updateVisor({
      bundle: await bundle('v1.3.30', { body: 'broken' }),
      dir: slots,
      policy,
      restart: async () => void restarts.push((await readSlots(slots)).current!),
      probe: async () => (t.c.now % 20_000 < 10_000 ? { ok: true } : { ok: false, problem: 'exit code 2' }),
      swap: { limitMs: 60_000, steadyMs: 30_000 },
      probeEveryMs: 5000,
      now: t.now,
      sleep: t.sleep,
    });
    expect(r).toEqual({
      outcome: 'fell-back',
      version: 'v1.3.30',
      reason: 'the new visor answered only 0 s of the 30 s needed within 60 s; last: exit code 2',
    });
    expect(restarts).toEqual([expect.stringMatching(/^releases\/v1\.3\.30-/), good]);
    expect(await readSlots(slots)).toEqual({ current: good, previous: null });
  });

  it('reports a refused bundle without restarting anything', async () => {
    const slots = await mkdtemp(join(dir, 'slots-'));
    let restarted = false;
    const r = await updateVisor({
      bundle: await bundle('v1.3.29', { arch: 'arm' }),
      dir: slots,
      policy,
      restart: async () => void (restarted = true),
      probe: async () => ({ ok: true }),
    });
    expect(r).toEqual({ outcome: 'refused', reason: 'skywire for arm; this board is arm64' });
    expect(restarted).toBe(false);
  });
});

describe('skyminer visor-update', () => {
  it('refuses a bundle for another architecture or an untrusted key in one line, touching nothing', async () => {
    const keys = await mkdtemp(join(dir, 'keys-'));
    await writeFile(join(keys, 'box.pem'), publicKeyPem(signer.publicKey));
    const other = process.arch === 'arm64' ? 'arm' : 'arm64';
    const r = await runSkyminer(['visor-update', await bundle('v1.3.29', { arch: other }), '--keys', keys]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(
      new RegExp(
        `^skyminer: visor-update: refused: skywire for ${other}; this board is \\w+; the running visor is untouched\\n$`,
      ),
    );
    const stranger2 = await runSkyminer([
      'visor-update',
      await bundle('v1.3.29', { key: stranger }),
      '--keys',
      keys,
    ]);
    expect(stranger2.stderr).toMatch(
      /^skyminer: visor-update: refused: signed by key [0-9a-f]{16}, which this board does not trust/,
    );
    expect((await runSkyminer(['visor-update'])).code).toBe(2);
  });
});
