// Boots an emulator-profile image in QEMU (TCG) the way U-Boot would: the kernel, initramfs and command line
// named in the image's own extlinux.conf, the image itself as the disk, the serial console on a pipe, and an
// i6300esb watchdog whose expiry makes QEMU exit (-action watchdog=poweroff).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECT_BOOT_CONF, parseExtlinux } from '../layout/boot-config.js';
import { readFatText } from '../layout/fat.js';
import { decodeMbr, SECTOR } from '../layout/mbr.js';
import { run } from '../lib/tools.js';
import { open } from 'node:fs/promises';

export interface BootOptions {
  image: string;
  arch: 'aarch64' | 'armv7';
  /** Appended to the image's kernel command line (e.g. skyminer.slot=1). */
  extraAppend?: string;
  memoryMib?: number;
  /** Keep the image unchanged (QEMU's -snapshot): the default, so one image serves several boots. */
  snapshot?: boolean;
  /**
   * The board's Ethernet (eth0, virtio-net): 'none' (the default) has no NIC; 'isolated' has a NIC on a QEMU hub
   * with nothing else on it (no DHCP server, nothing beyond the machine); { netdev } attaches the NIC to the given
   * -netdev spec (its id must be `box`), e.g. a socket shared by the boards of one box.
   */
  network?: 'none' | 'isolated' | { netdev: string };
  /** The NIC's MAC address (QEMU gives every machine the same one otherwise). */
  mac?: string;
  /**
   * Boot through U-Boot as the machine's firmware (-bios) instead of loading the kernel directly: U-Boot runs the
   * image's boot.scr, its environment on the second flash bank (a 64 MiB file), and a reboot of the guest goes
   * through U-Boot again instead of ending QEMU. extraAppend does not apply (boot.scr sets the command line).
   */
  uboot?: { bios: string; flash: string; qemu: string };
  /** More disks after the image (QEMU -drive specs), e.g. one holding update bundles. */
  extraDrives?: string[];
}

/** QEMU arguments for the board's Ethernet: a virtio NIC (no option ROM: -M virt has no firmware to use it). */
export function networkArgs(network: BootOptions['network'], mac?: string): string[] {
  if (network === undefined || network === 'none') return ['-nic', 'none'];
  const netdev = network === 'isolated' ? 'hubport,id=box,hubid=0' : network.netdev;
  if (!/(^|,)id=box(,|$)/.test(netdev)) throw new Error(`network netdev "${netdev}" must have id=box`);
  return [
    '-nic',
    'none',
    '-netdev',
    netdev,
    '-device',
    `virtio-net-pci,netdev=box,romfile=${mac ? `,mac=${mac}` : ''}`,
  ];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds since QEMU started. */
  atMs: number;
}

/**
 * Copies the kernel and initramfs named in the image's extlinux.conf into `dir`, as U-Boot would load them, and
 * returns their paths with the kernel command line.
 */
export async function extractBootFiles(
  image: string,
  dir: string,
): Promise<{ kernel: string; initrd?: string; append: string }> {
  const head = Buffer.alloc(SECTOR);
  const fh = await open(image, 'r');
  await fh.read(head, 0, SECTOR, 0);
  await fh.close();
  const boot = decodeMbr(head).partitions.find((p) => p.bootable);
  if (!boot) throw new Error(`${image}: no bootable partition`);
  const offset = boot.start * SECTOR;
  const entry = parseExtlinux(await readFatText(image, offset, DIRECT_BOOT_CONF));
  const kernel = join(dir, 'kernel');
  const initrd = join(dir, 'initrd');
  const env = { MTOOLS_SKIP_CHECK: '1' };
  await run('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${entry.kernel}`, kernel], { env });
  if (entry.initrd)
    await run('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${entry.initrd}`, initrd], { env });
  return { kernel, ...(entry.initrd ? { initrd } : {}), append: entry.append };
}

export class QemuSession {
  private out = '';
  private cursor = 0;
  private waiters: (() => void)[] = [];
  readonly exited: Promise<Exit>;
  readonly startedAt = performance.now();

  private constructor(
    private readonly child: ChildProcess,
    private readonly scratch: string,
  ) {
    // QEMU_CONSOLE_LOG=FILE copies every machine's console there as it arrives, to watch a long test.
    const copy = process.env.QEMU_CONSOLE_LOG;
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (d: string) => {
      if (copy)
        try {
          appendFileSync(copy, d, 'latin1');
        } catch {
          // only a copy: the console is still kept here
        }
      this.out += d;
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr!.setEncoding('latin1');
    child.stderr!.on('data', (d: string) => {
      this.out += d;
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        void rm(scratch, { recursive: true, force: true });
        resolve({ code, signal, atMs: performance.now() - this.startedAt });
        for (const w of this.waiters.splice(0)) w();
      });
    });
  }

  static async start(o: BootOptions): Promise<QemuSession> {
    const scratch = await mkdtemp(join(tmpdir(), 'skyminer-boot-'));
    const machine =
      o.arch === 'aarch64'
        ? { bin: 'qemu-system-aarch64', args: ['-M', 'virt', '-cpu', 'cortex-a53'] }
        : { bin: 'qemu-system-arm', args: ['-M', 'virt,highmem=off', '-cpu', 'cortex-a15'] };
    let boot: string[];
    if (o.uboot) {
      machine.bin = o.uboot.qemu;
      boot = [
        '-bios',
        o.uboot.bios,
        '-drive',
        `if=pflash,index=1,format=raw,file=${o.uboot.flash}`,
        // As on a board: the watchdog resets the machine, and the reset goes through U-Boot again.
        '-action',
        'watchdog=reset',
      ];
    } else {
      const { kernel, initrd, append } = await extractBootFiles(o.image, scratch);
      boot = [
        '-action',
        'watchdog=poweroff',
        // A reboot (softdog's expiry on the 32-bit machine) ends QEMU too, so a test sees every reset as an exit.
        '-no-reboot',
        '-kernel',
        kernel,
        ...(initrd ? ['-initrd', initrd] : []),
        '-append',
        `${append} ${o.extraAppend ?? ''}`.trim(),
      ];
    }
    const args = [
      ...machine.args,
      '-smp',
      '2',
      '-m',
      String(o.memoryMib ?? 1024),
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      'stdio',
      ...networkArgs(o.network, o.mac),
      '-device',
      'i6300esb',
      ...boot,
      '-drive',
      `file=${o.image},format=raw,if=virtio`,
      ...(o.extraDrives ?? []).flatMap((d) => ['-drive', d]),
      ...(o.snapshot === false ? [] : ['-snapshot']),
    ];
    const child = spawn(machine.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new QemuSession(child, scratch);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) =>
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new Error(`${machine.bin} not found (Debian package qemu-system-arm)`)
            : err,
        ),
      );
    });
    return session;
  }

  /** Everything the serial console printed so far. */
  get output(): string {
    return this.out;
  }

  /** Waits for the pattern in the output after the last match; the rest of the output stays for the next. */
  async expect(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
      const m = re.exec(this.out.slice(this.cursor));
      if (m) {
        this.cursor += m.index + m[0].length;
        return m;
      }
      const left = deadline - performance.now();
      if (left <= 0 || this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(
          `serial console: no ${pattern} within ${timeoutMs} ms${this.child.exitCode !== null ? ' (QEMU exited)' : ''}; last output:\n${this.out.slice(-1500)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(text: string): void {
    this.child.stdin!.write(text);
  }

  /**
   * Turns the logged-in shell into a plain command channel: no echo and no prompt, so that what a command
   * prints is all that arrives between sending it and its end marker. A shell opened from the console runs in a
   * pseudo-terminal whose line ends pass through the serial port's own onlcr too, so a line may end in \r\r\n.
   */
  async quietShell(timeoutMs = 10_000): Promise<void> {
    const tag = `@@${Math.random().toString(36).slice(2, 8)}`;
    this.send(`stty -echo; PS1=''; PS2=''; echo ${tag}-$((6*7))\n`);
    await this.expect(new RegExp(`${tag}-42\\r*\\n`), timeoutMs);
  }

  /** Runs a command in a shell made quiet by quietShell() and returns what it printed. */
  async shell(command: string, timeoutMs = 20_000): Promise<string> {
    const tag = `@@${Math.random().toString(36).slice(2, 8)}`;
    this.send(`${command}; echo ${tag}-$((6*7))\n`);
    const m = await this.expect(new RegExp(`([\\s\\S]*?)${tag}-42\\r*\\n`), timeoutMs);
    return m[1]!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  }

  /** Resolves with the exit, or undefined if QEMU is still running after the timeout. */
  async waitExit(timeoutMs: number): Promise<Exit | undefined> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((res) => {
      t = setTimeout(() => res(undefined), timeoutMs);
    });
    const r = await Promise.race([this.exited, timeout]);
    clearTimeout(t);
    return r;
  }

  /** Pulls the plug: QEMU killed at once, nothing flushed by the guest. */
  async kill(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
