// The emulator image: build time, image size, compressed size, and boot-to-console-prompt time in QEMU (TCG);
// its update bundle: size, and the install (stream, check, write, read back, switch) into a spare slot.
// One build and one boot (the machine is shared; QEMU runs are kept short and sequential).
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, repoRoot } from '../../images/build.js';
import { QemuSession } from '../../images/emulator/qemu-session.js';
import { installBundle } from '../../firmware/update/install.js';
import { keyId } from '../../firmware/update/keys.js';
import { encodeEnv, RawEnvStore } from '../../firmware/update/uboot-env.js';

const PROFILE = 'qemu-virt-arm64';
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export default async function (): Promise<void> {
  const repo = repoRoot();
  const out = await mkdtemp(join(tmpdir(), 'bench-image-'));
  let fetched = 0;
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyFile = join(out, 'signing.pem');
  await writeFile(keyFile, key.export({ format: 'pem', type: 'pkcs8' }));
  const r = await buildImage({
    signingKey: keyFile,
    profile: PROFILE,
    repo,
    outDir: out,
    cacheDir: join(repo, '.cache', 'images'),
    compress: true,
    log: (m) => {
      if (m.includes('fetching') || m.includes('cross-building')) fetched++;
    },
  });
  console.log(
    `${PROFILE} build: ${r.seconds.toFixed(1)} s, of which xz ${r.compressSeconds.toFixed(1)} s (${fetched ? `${fetched} inputs fetched or addons built` : 'inputs and addons cached'})`,
  );
  console.log(`${PROFILE} image: ${mib(r.sizeBytes)}; compressed (xz -3): ${mib(r.compressedBytes!)}`);
  console.log(`${PROFILE} update bundle: ${mib(r.bundleBytes!)}`);
  // Install into a file standing in for slot B, with a redundant environment in another file (host disk, host CPU).
  const slotB = join(out, 'slot-b');
  await writeFile(slotB, Buffer.alloc(0));
  const envFile = join(out, 'env');
  await writeFile(
    envFile,
    Buffer.concat([encodeEnv({ skyminer_slot: 'A' }, 0x4000, 1), Buffer.alloc(0x4000, 0xff)]),
  );
  const t0 = performance.now();
  await installBundle(createReadStream(r.bundle!), {
    env: new RawEnvStore(envFile, [0, 0x4000], 0x4000),
    slots: { booted: 'A', path: { A: r.image, B: slotB }, bytes: async () => 1 << 30 },
    policy: { keys: new Map([[keyId(key), key]]), profile: PROFILE },
    runningVersion: '0.0.0',
    recordFile: join(out, 'update.json'),
    now: () => Date.now(),
    log: () => undefined,
  });
  console.log(
    `${PROFILE} install of the bundle into a spare slot (host, file-backed): ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const vm = await QemuSession.start({ image: r.image, arch: 'aarch64', extraAppend: 'skyminer.slot=1' });
  try {
    // Built without a console password, the console asks the first person at the port to choose one.
    await vm.expect(/Skyminer console\r*\n(password: |No console password is set)/, 180_000);
    const prompt = performance.now() - vm.startedAt;
    console.log(`${PROFILE} boot (QEMU start -> console login prompt, TCG): ${(prompt / 1000).toFixed(1)} s`);
    // The update's downtime and time to fall back are measured through U-Boot: update.bench.ts.
  } finally {
    await vm.stop();
    await rm(out, { recursive: true, force: true });
  }
}
