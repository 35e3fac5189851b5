// Updates on one board booted through U-Boot under QEMU (TCG, this machine): the bundle's size, the install (stream,
// check, write, read back, switch), the downtime of a good update (the update's reboot -> the new slot committed
// healthy) and the time a root that does not boot takes to fall back (the reboot into it -> U-Boot choosing the
// old slot -> the old slot's console back). One image build, four boots.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../images/build.js';
import { bundlePath, prepareBoard, UbootBoard } from '../hil/uboot-board.js';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export default async function (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-update-'));
  const board = new UbootBoard(await prepareBoard(repoRoot(), dir));
  try {
    console.log(`qemu-virt-arm64 update bundle (gzipped root, signed): ${mib(board.files.bundleBytes.good)}`);
    const vm = await board.powerOn();
    await board.atUbootPrompt('setenv skyminer_args skyminer.slot=1; saveenv; boot');
    await board.bootedSlot();
    await board.login();

    // A root that does not boot: from the update's reboot to U-Boot's own fallback, and to the console again.
    vm.send(`skyminer update ${bundlePath('unbootable')} 2>&1\n`);
    await vm.expect(/rebooting into it/, 600_000);
    const down = performance.now();
    await board.bootedSlot(300_000);
    if ((await board.bootedSlot(300_000)) !== 'A')
      throw new Error('the unbootable slot did not fall back to A');
    const chosen = performance.now();
    await board.login();
    const back = performance.now();
    console.log(
      `time to fall back, root that does not boot (reboot -> U-Boot boots the old slot): ${s(chosen - down)}; -> its console again: ${s(back - down)}`,
    );

    // A good update: install, then the downtime from its reboot to the new slot committed (healthy).
    const t0 = performance.now();
    const out = await vm.shell(`skyminer update ${bundlePath('good')} --no-reboot 2>&1`, 900_000);
    const installed = performance.now();
    if (!/tried at the next reboot/.test(out)) throw new Error(`install failed: ${out.trim()}`);
    console.log(
      `install time per board (stream, check, write, read back, switch; TCG): ${s(installed - t0)}`,
    );
    vm.send('reboot\n');
    const rebootAt = Date.now();
    if ((await board.bootedSlot(300_000)) !== 'B') throw new Error('the good update did not boot slot B');
    await board.login();
    // The commit's time on the board's clock (QEMU's RTC starts from the host's, to the second).
    const at = await vm.shell(
      `for i in $(seq 300); do grep -q '"stage":"committed"' /var/lib/skyminer/update.json && break; sleep 1; done; sed -n 's/.*"at":\\([0-9]*\\).*/\\1/p' /var/lib/skyminer/update.json`,
      400_000,
    );
    // The record's time (ms) is the last number printed: the console may carry other lines with it.
    const committedAt = Number(/(\d{10,})\s*$/.exec(at)?.[1]);
    if (!committedAt) throw new Error(`the good update did not commit: ${JSON.stringify(at.slice(-300))}`);
    console.log(
      `downtime per board (the update's reboot -> new slot healthy and committed; ±1 s): ${s(committedAt - rebootAt)}`,
    );
  } finally {
    await board.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
