// Updates under a real U-Boot: one emulated board (qemu-virt-arm64) booted through Debian's u-boot-qemu, its
// environment on the virt machine's flash, so U-Boot's own boot script counts the trial boot and falls back. The
// board lives through one update after another, as an owner's would, each outcome read from what U-Boot and the
// board print on the serial console. One image build per run; the order below is the board's life.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../images/build.js';
import {
  BOOT_MS,
  bundlePath,
  prepareBoard,
  UbootBoard,
  UNHEALTHY_LIMIT_S,
  type BoardFiles,
} from './uboot-board.js';

let files: BoardFiles;
let board: UbootBoard;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'update-uboot-'));
  // The bench (test/bench/update.bench.ts) measures the full image's bundle; these tests try the update itself.
  files = await prepareBoard(repoRoot(), dir, { skywire: false });
  board = new UbootBoard(files);
}, 900_000);

afterAll(async () => {
  await board?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Sends an update command and returns once it printed its last line (before any reboot it asks for). */
async function update(what: string, extra = ''): Promise<string> {
  return board.vm!.shell(`skyminer update ${what} ${extra} 2>&1; echo "exit $?"`, 400_000);
}

describe('a board booted through U-Boot', () => {
  it(
    'boots slot A from a blank flash, U-Boot saving its environment with the slot in it',
    async () => {
      const vm = await board.powerOn();
      await vm.expect(/U-Boot 2023\.01/, 60_000);
      // The owner's own kernel arguments, kept in U-Boot's environment: this board is the box's manager.
      await board.atUbootPrompt('setenv skyminer_args skyminer.slot=1; saveenv; boot');
      await vm.expect(/Saving Environment to Flash\.\.\.[\s\S]*?OK/, 30_000);
      expect(await board.bootedSlot()).toBe('A');
      await board.login();
      expect(await vm.shell('cat /proc/cmdline')).toMatch(/skyminer\.rootslot=A .*skyminer\.slot=1/);
      // Linux reads the environment U-Boot wrote (through /dev/mem: the kernel has no CFI flash driver).
      expect(await board.status()).toMatch(/running firmware 0\.1\.0 from slot A; committed slot A/);
    },
    BOOT_MS + 120_000,
  );

  it('refuses a tampered bundle and leaves the running slot and the boot environment as they were', async () => {
    const out = await update(bundlePath('tampered'), '--no-reboot');
    expect(out).toMatch(/update: refused: .*; the running firmware is untouched\nexit 1\n$/);
    const status = await board.status();
    expect(status).toMatch(/committed slot A\n/);
    expect(status).not.toMatch(/will be tried/);
  }, 450_000);

  it(
    'boots the old slot after QEMU is killed while the new slot is being written',
    async () => {
      const vm = board.vm!;
      vm.send(`skyminer update ${bundlePath('good')} 2>&1\n`);
      await vm.expect(/writing firmware 0\.3\.0 into slot B/, 60_000);
      await new Promise((r) => setTimeout(r, 3000));
      await board.kill();
      const again = await board.powerOn();
      expect(await board.bootedSlot()).toBe('A');
      await board.login();
      const status = await board.status();
      expect(status).toMatch(/running firmware 0\.1\.0 from slot A; committed slot A\n/);
      // Cut before the read-back and the switch: no record of an installed 0.3.0, nothing to try.
      expect(status).not.toMatch(/0\.3\.0/);
      expect(again.output).not.toMatch(/booting root slot B/);
    },
    BOOT_MS + 200_000,
  );

  it(
    'falls back to the old slot when QEMU is killed during the first boot of the new one',
    async () => {
      const out = await update(bundlePath('good'));
      expect(out).toMatch(
        /slot B holds firmware 0\.3\.0; the next boot tries it once[\s\S]*rebooting into it/,
      );
      expect(await board.bootedSlot(BOOT_MS)).toBe('B');
      await board.vm!.expect(/Booting Linux on physical CPU/, 60_000);
      await board.kill();
      await board.powerOn();
      // U-Boot took the one try before the kill: this boot falls back by itself.
      expect(await board.bootedSlot()).toBe('A');
      await board.login();
      expect(await board.status()).toMatch(
        /running firmware 0\.1\.0 from slot A; committed slot A\n[\s\S]*last update: firmware 0\.3\.0 into slot B, rolled-back \(firmware 0\.3\.0 \(slot B\) (did not boot|stopped \(power lost or restarted\) before it was healthy): back on the previous firmware\)/,
      );
    },
    2 * BOOT_MS + 300_000,
  );

  it(
    'falls back by itself through U-Boot when the new root does not boot',
    async () => {
      const vm = board.vm!;
      const out = await update(bundlePath('unbootable'));
      expect(out).toMatch(/the next boot tries it once/);
      expect(await board.bootedSlot(BOOT_MS)).toBe('B');
      await vm.expect(/initramfs: cannot mount \/dev\/vda3; restarting in 5 s/, 120_000);
      // No one touches the machine: the board restarts, and U-Boot, with no tries left, boots slot A.
      expect(await board.bootedSlot()).toBe('A');
      await board.login();
      const status = await board.status();
      expect(status).toMatch(/running firmware 0\.1\.0 from slot A; committed slot A\n/);
      expect(status).toMatch(
        /last update: firmware 0\.2\.1 into slot B, rolled-back \(firmware 0\.2\.1 \(slot B\) did not boot: back on the previous firmware\)/,
      );
      expect(await vm.shell('logread | grep skyminer-update')).toMatch(
        /update rolled back: firmware 0\.2\.1 \(slot B\) did not boot/,
      );
    },
    2 * BOOT_MS + 300_000,
  );

  it(
    'falls back after the limit when the new slot boots but never becomes healthy, and says why',
    async () => {
      const vm = board.vm!;
      await update(bundlePath('unhealthy'));
      expect(await board.bootedSlot(BOOT_MS)).toBe('B');
      // Its own watch gives up at the limit and restarts the board; U-Boot then boots A.
      await vm.expect(/Skyminer firmware 0\.2\.2/, BOOT_MS);
      expect(await board.bootedSlot(BOOT_MS + UNHEALTHY_LIMIT_S * 1000)).toBe('A');
      await board.login();
      const status = await board.status();
      expect(status).toMatch(/running firmware 0\.1\.0 from slot A; committed slot A\n/);
      expect(status).toMatch(
        /last update: firmware 0\.2\.2 into slot B, rolled-back \(firmware 0\.2\.2 \(slot B\) did not become healthy \(supervisor not running\): back on the previous firmware\)/,
      );
    },
    3 * BOOT_MS + 300_000,
  );

  it(
    'commits a good update once the manager is healthy, and the next boot stays on it',
    async () => {
      const vm = board.vm!;
      await update(bundlePath('good'));
      expect(await board.bootedSlot(BOOT_MS)).toBe('B');
      await board.login();
      // The supervisor and the agent run from the new slot, and its watch commits the slot.
      const committed = await vm.shell(
        'for i in $(seq 240); do grep -q \'"stage":"committed"\' /var/lib/skyminer/update.json && break; sleep 1; done; skyminer update status 2>&1',
        300_000,
      );
      expect(committed).toMatch(/running firmware 0\.3\.0 from slot B; committed slot B\n/);
      expect(committed).toMatch(/last update: firmware 0\.3\.0 into slot B, committed/);
      expect(
        await vm.shell(
          'for s in supervisor agent; do kill -0 $(cat /run/skyminer/skyminer-$s.pid) && echo $s up; done',
        ),
      ).toBe('supervisor up\nagent up\n');
      vm.send('reboot\n');
      // U-Boot itself reads what Linux wrote: the committed slot, and no try left over.
      await board.atUbootPrompt('printenv skyminer_slot skyminer_try');
      await vm.expect(/skyminer_slot=B\r?\n## Error: "skyminer_try" not defined/, 10_000);
      vm.send('boot\n');
      expect(await board.bootedSlot()).toBe('B');
      await board.login();
      expect(await board.status()).toMatch(/running firmware 0\.3\.0 from slot B; committed slot B\n/);
    },
    3 * BOOT_MS + 300_000,
  );
});
