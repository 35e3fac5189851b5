import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../images/build.js';
import { loadLock, type SourceInput } from '../../images/lib/inputs.js';
import { buildSkywire, findGo, goBuild, SKYWIRE_INPUT, type GoArch } from '../../images/stages/skywire.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { SkywireLab } from '../skywire/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timeUntil(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<number> {
  const t = performance.now();
  while (!(await check().catch(() => false))) {
    if (performance.now() - t > timeoutMs) throw new Error('timed out');
    await sleep(100);
  }
  return (performance.now() - t) / 1000;
}

async function rssMib(pid: number | undefined): Promise<string> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? `${(Number(kb) / 1024).toFixed(1)} MiB` : 'unknown';
}

/**
 * Skywire figures: build time (cold, from a cold build's log when one is given in SKYWIRE_COLD_LOG, lines such as
 * `arm64 456s`; rebuilt with Go's cache warm) and size per architecture; then, in the real-Skywire lab, a hypervisor
 * start to its first answer, a worker visor's start to being listed by the hypervisor, and each visor's memory.
 */
export default async function (): Promise<void> {
  const repo = repoRoot();
  const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
  const pin = lock[SKYWIRE_INPUT] as SourceInput;
  const cacheDir = join(repo, '.cache', 'images');
  const cold = await readFile(process.env.SKYWIRE_COLD_LOG ?? '/tmp/skywire-warm/log', 'utf8').catch(
    () => '',
  );
  const { go } = await findGo();
  const binaries: Partial<Record<GoArch, string>> = {};
  for (const goarch of ['amd64', 'arm64', 'arm'] as const) {
    const b = await buildSkywire({ repo, lock, goarch, cacheDir, log: () => undefined });
    binaries[goarch] = b.binary;
    const src = join(cacheDir, 'skywire', `src-${pin.tar_sha256.slice(0, 16)}`, pin.prefix);
    const t = performance.now();
    await goBuild(pin, src, goarch, `${b.binary}.bench`, go);
    const warm = (performance.now() - t) / 1000;
    await rm(`${b.binary}.bench`, { force: true });
    const coldS = new RegExp(`^${goarch} (\\d+)s$`, 'm').exec(cold)?.[1];
    console.log(
      `skywire ${pin.version} linux/${goarch}: ${((await stat(b.binary)).size / 1e6).toFixed(1)} MB; build with Go's cache warm ${warm.toFixed(1)} s; cold ${coldS ? `${coldS} s (two cores, loaded)` : 'not measured in this run (SKYWIRE_COLD_LOG)'}`,
    );
  }

  const lab = await SkywireLab.start({ binary: binaries.amd64!, boards: 3 });
  try {
    const client = new HypervisorClient({ url: lab.hypervisorUrl, password: 'Skyminer-bench1' });
    const ping = () => lab.ping().then((t) => t === '"PONG!"');
    await timeUntil(ping);
    await client.createAccount('Skyminer-bench1');
    await timeUntil(async () => (await client.visorsSummary()).length === 3);
    console.log(
      `running visor memory (RSS, amd64): hypervisor ${await rssMib(lab.board(1).visor?.pid)}, worker ${await rssMib(lab.board(2).visor?.pid)}`,
    );
    await lab.stopVisor(1);
    lab.startVisor(1);
    console.log(`hypervisor start -> answering /api/ping: ${(await timeUntil(ping)).toFixed(1)} s`);
    await lab.stopVisor(3);
    await timeUntil(async () => (await client.visorsSummary()).length === 2);
    lab.startVisor(3);
    const listed = await timeUntil(async () =>
      (await client.visorsSummary()).some((v) => v.localIp === lab.board(3).ip),
    );
    console.log(`worker visor start -> listed by the hypervisor: ${listed.toFixed(1)} s`);
  } finally {
    await lab.stop();
  }
}
