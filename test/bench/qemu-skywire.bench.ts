// Skywire on the QEMU box: four virt boards booted from the emulator image, with Skywire's real deployment services
// behind the router's seat on the LAN (test/box/router.ts). Measured from host times: the manager's power-on -> its
// hypervisor answering on the LAN (a TCP connect to 192.168.0.2:8000 from the router's namespace), each worker's
// power-on (its line's edge in QEMU's trace) -> its visor listed by the manager's hypervisor (`skywire --json` at
// the manager's console, read every few seconds), and the memory of a running visor (VmRSS, on a worker's /proc).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Box, closeShell, linesOf, login, loginManager, openShell, skywireJson } from '../box/box.js';
import { buildBoxImage } from '../box/box-image.js';
import { Lan } from '../box/lan.js';
import { BoxRouter } from '../box/router.js';
import { hostSkywire } from '../skywire/lab.js';
import { waitTcp } from '../skywire/services.js';

const BOARDS = 4;
const WORKERS = [2, 3, 4];
const PASSWORD = 'skyminer-bench-console';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export default async function (): Promise<void> {
  if (spawnSync('qemu-system-aarch64', ['--version']).status !== 0) {
    console.log('skipped: qemu-system-aarch64 not found (Debian package qemu-system-arm)');
    return;
  }
  if (process.getuid?.() !== 0) {
    console.log('skipped: the router seat is a network namespace (run as root)');
    return;
  }
  const lan = await Lan.start();
  const dir = await mkdtemp(join(tmpdir(), 'bench-skywire-box-'));
  const router = await BoxRouter.start({ lan, binary: await hostSkywire(), dir });
  const image = await buildBoxImage(PASSWORD, { skywireServices: router.servicesFile });
  let box: Box | undefined;
  try {
    box = await Box.start({ image, boards: BOARDS, lan });
    const poweredAt = box.manager.history[0]!.atMs;
    await waitTcp(router.ns, '192.168.0.2', 8000, "the manager's hypervisor", 900_000);
    const hypervisorAt = Date.now();
    await loginManager(box, PASSWORD);
    const listedAt = new Map<number, number>();
    const deadline = Date.now() + 1_200_000;
    while (listedAt.size < BOARDS) {
      if (Date.now() > deadline)
        throw new Error(`visors listed: ${[...listedAt.keys()].join(', ') || 'none'}`);
      const r = await skywireJson(box).catch(() => undefined);
      for (const v of r?.visors ?? [])
        if (v.running && v.dmsg_connected && !listedAt.has(v.board)) listedAt.set(v.board, Date.now());
      await sleep(3000);
    }
    const b = box.board(2);
    await login(b, PASSWORD);
    await openShell(b);
    const rss = await b.console.shell(
      'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = skywire ] && grep VmRSS $p/status; done; true',
    );
    await closeShell(b);
    console.log(`manager power-on -> its hypervisor answering on the LAN: ${s(hypervisorAt - poweredAt)}`);
    console.log(`manager power-on -> its own visor listed: ${s(listedAt.get(1)! - poweredAt)}`);
    for (const n of WORKERS) {
      const edge = box.edgesOf(linesOf(n).power).find((e) => e.level === 1)!;
      console.log(
        `board ${n} power-on -> its visor listed by the hypervisor: ${s(listedAt.get(n)! - edge.atMs)}`,
      );
    }
    const kib = [...rss.matchAll(/VmRSS:\s+(\d+) kB/g)].map((m) => Number(m[1]));
    console.log(
      `a running visor's memory (board 2, VmRSS of each skywire process): ${kib.map((k) => `${(k / 1024).toFixed(1)} MiB`).join(', ') || 'none found'}`,
    );
    console.log(
      '(QEMU virt boards under TCG on this machine; listing read every 3 s at the console, +/- 5 s)',
    );
  } finally {
    // The box closes the LAN with it; without a box it is closed here.
    if (box) await box.close();
    else await lan.close();
    await router.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(dirname(image), { recursive: true, force: true });
  }
}
