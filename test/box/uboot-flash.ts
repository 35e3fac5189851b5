// The second flash bank of each board of a box booted through U-Boot: U-Boot's own environment, as its saveenv
// writes it, with the board's slot among the owner's kernel arguments (skyminer_args), as an owner sets it once at
// U-Boot's prompt. U-Boot is run once, on a blank bank with no disk, to save its built-in environment; each board's
// bank is that environment with its own slot.
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEnv, encodeEnv, type Env } from '../../firmware/update/uboot-env.js';
import { blankFlash, UBOOT_ENV, UBOOT_QEMU_ARM64 } from '../../images/emulator/uboot.js';
import { ConsoleLog } from './console-log.js';

/** U-Boot's built-in environment, saved by U-Boot itself on a blank bank. */
export async function ubootDefaultEnv(qemu: string): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'uboot-env-'));
  const flash = join(dir, 'flash.img');
  await blankFlash(flash);
  const child = spawn(
    qemu,
    [
      ...['-M', 'virt', '-cpu', 'cortex-a53', '-m', '256', '-nic', 'none'],
      ...['-display', 'none', '-monitor', 'none', '-serial', 'stdio'],
      ...['-bios', UBOOT_QEMU_ARM64, '-drive', `if=pflash,index=1,format=raw,file=${flash}`],
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const console = new ConsoleLog('u-boot');
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (d: string) => console.append(d));
  child.stdin!.on('error', () => undefined);
  console.attach((text) => child.stdin!.write(text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await console.expect(/Hit any key to stop autoboot/, 120_000);
    console.send(' ');
    await console.expect(/=> $/, 30_000);
    console.send('saveenv\n');
    await console.expect(/Saving Environment to Flash\.\.\.[\s\S]*?OK/, 60_000);
    await console.expect(/=> $/, 30_000);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const saved = decodeEnv((await readFile(flash)).subarray(UBOOT_ENV.offset, UBOOT_ENV.size), false);
  await rm(dir, { recursive: true, force: true });
  if (!saved) throw new Error('U-Boot saved no environment with a valid CRC');
  return saved.env;
}

/** A board's bank: blank, then `env` with this board's slot in skyminer_args, where U-Boot keeps it. */
export async function slotFlash(path: string, env: Env, slot: number): Promise<void> {
  await blankFlash(path);
  const fh = await open(path, 'r+');
  try {
    await fh.write(
      encodeEnv({ ...env, skyminer_args: `skyminer.slot=${slot}` }, UBOOT_ENV.size),
      0,
      UBOOT_ENV.size,
      UBOOT_ENV.offset,
    );
  } finally {
    await fh.close();
  }
}
