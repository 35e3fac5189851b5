// The emulator image: build time, image size, compressed size, and boot-to-console-prompt time in QEMU (TCG).
// One build and one boot (the machine is shared; QEMU runs are kept short and sequential).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, repoRoot } from '../../images/build.js';
import { QemuSession } from '../../images/emulator/qemu-session.js';

const PROFILE = 'qemu-virt-arm64';
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export default async function (): Promise<void> {
  const repo = repoRoot();
  const out = await mkdtemp(join(tmpdir(), 'bench-image-'));
  let fetched = 0;
  const r = await buildImage({
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
  const vm = await QemuSession.start({ image: r.image, arch: 'aarch64', extraAppend: 'skyminer.slot=1' });
  try {
    // Built without a console password, the console says it is locked where it would ask for one.
    await vm.expect(/Skyminer console\r*\n(password: |console locked)/, 180_000);
    const prompt = performance.now() - vm.startedAt;
    console.log(`${PROFILE} boot (QEMU start -> console login prompt, TCG): ${(prompt / 1000).toFixed(1)} s`);
  } finally {
    await vm.stop();
    await rm(out, { recursive: true, force: true });
  }
}
