// One board of the QEMU box: a virt (aarch64) machine with its own card (a copy of the image), an
// i6300esb watchdog that resets it, a NIC on the box's LAN, its serial console captured, and a QMP socket.
// Power is the QEMU process itself: switched on, a process starts from the card; switched off, it is killed as
// a power cut would (no shutdown), and the card keeps what was written to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ConsoleLog } from './console-log.js';
import { Qmp, type QmpEvent } from './qmp.js';

/** Every QEMU the harness started and that still runs: none may outlive the test process. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface BoardSpec {
  slot: number;
  /** The board's card (its own copy of the image). */
  disk: string;
  /** How it boots: QEMU loads the kernel itself, or U-Boot runs as its firmware from its own flash bank. */
  boot: DirectBoot | UbootBoot;
  /** More disks (`-drive` specs), as a stick in a USB port. */
  drives?: string[];
  /** Where its QMP socket goes. */
  dir: string;
  /** `-netdev` of the box's LAN. */
  netdev: string;
  memoryMib: number;
  cpus: number;
  /** Host scheduling priority (nice) of its QEMU: the workers yield to the manager, whose watchdog must be fed. */
  nice: number;
  /** QEMU trace events this board records (the manager's PL061 outputs). */
  trace?: string[];
  /** Called with every trace line on QEMU's stderr, with the host time it arrived. */
  onTrace?: (line: string, atMs: number) => void;
}

export interface DirectBoot {
  kind: 'direct';
  kernel: string;
  initrd?: string;
  append: string;
}

/** Debian's U-Boot (images/emulator/uboot.ts) with the board's environment bank, under a QEMU whose flash saves. */
export interface UbootBoot {
  kind: 'uboot';
  qemu: string;
  bios: string;
  flash: string;
}

export interface PowerRecord {
  kind: 'on' | 'off' | 'reset-held' | 'reset-released' | 'exit';
  atMs: number;
  detail?: string;
}

export class BoardMachine {
  readonly console: ConsoleLog;
  private child: ChildProcess | undefined;
  private qmpClient: Qmp | undefined;
  private exitWait: Promise<void> = Promise.resolve();
  /** Everything done to this board's power and reset, and every exit of its QEMU, in order. */
  readonly history: PowerRecord[] = [];
  /** QEMU's events for this board (RESET, WATCHDOG, STOP, RESUME...) across every power-on, in order. */
  readonly qmpEvents: QmpEvent[] = [];
  /** The QEMU process's stderr other than trace lines (QEMU's own complaints), for diagnostics. */
  stderr = '';

  constructor(readonly spec: BoardSpec) {
    this.console = new ConsoleLog(`board ${spec.slot}`);
  }

  get slot(): number {
    return this.spec.slot;
  }

  get powered(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private get qmpPath(): string {
    return join(this.spec.dir, `board${this.spec.slot}.qmp`);
  }

  /** Power on: a new QEMU process boots from the card. */
  async powerOn(): Promise<void> {
    if (this.child) return;
    const s = this.spec;
    const mac = `52:54:00:5b:00:${s.slot.toString(16).padStart(2, '0')}`;
    const args = [
      ...['-n', String(s.nice), s.boot.kind === 'uboot' ? s.boot.qemu : 'qemu-system-aarch64'],
      // With firmware (-bios) and ACPI, virt swaps its PL061 for ACPI's event device: no GPIO for the lines.
      ...['-M', s.boot.kind === 'uboot' ? 'virt,acpi=off' : 'virt'],
      ...['-cpu', 'cortex-a53', '-smp', String(s.cpus), '-m', String(s.memoryMib)],
      ...['-display', 'none', '-monitor', 'none', '-serial', 'stdio'],
      ...['-qmp', `unix:${this.qmpPath},server=on,wait=off`],
      // No ROM file for the NIC (Debian's QEMU for ARM does not ship the PCI option ROMs).
      ...['-nic', 'none', '-netdev', s.netdev, '-device'],
      `virtio-net-pci,netdev=box,mac=${mac},romfile=`,
      ...['-device', 'i6300esb', '-action', 'watchdog=reset'],
      ...(s.boot.kind === 'uboot'
        ? ['-bios', s.boot.bios, '-drive', `if=pflash,index=1,format=raw,file=${s.boot.flash}`]
        : [
            ...['-kernel', s.boot.kernel, ...(s.boot.initrd ? ['-initrd', s.boot.initrd] : [])],
            ...['-append', s.boot.append],
          ]),
      ...['-drive', `file=${s.disk},format=raw,if=virtio`],
      ...(s.drives ?? []).flatMap((d) => ['-drive', d]),
      ...(s.trace ?? []).flatMap((t) => ['-trace', t]),
    ];
    // nice execs QEMU in its own process, so the pid is QEMU's.
    const child = spawn('nice', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    this.history.push({ kind: 'on', atMs: Date.now() });
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (d: string) => this.console.append(d));
    child.stderr!.setEncoding('latin1');
    let partial = '';
    child.stderr!.on('data', (d: string) => {
      const atMs = Date.now();
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (s.onTrace && /pl061_set_output|setting output/.test(line)) s.onTrace(line, atMs);
        else this.stderr += line + '\n';
      }
    });
    child.stdin!.on('error', () => undefined);
    this.console.attach((text) => child.stdin!.write(text));
    this.exitWait = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.history.push({ kind: 'exit', atMs: Date.now(), detail: `code ${code} signal ${signal}` });
        if (this.child === child) {
          this.child = undefined;
          this.qmpClient?.close();
          this.qmpClient = undefined;
          this.console.attach(undefined);
        }
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) =>
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new Error('qemu-system-aarch64 not found (Debian package qemu-system-arm)')
            : err,
        ),
      );
    });
    try {
      this.qmpClient = await Qmp.connect(this.qmpPath, (e) => this.qmpEvents.push(e));
    } catch (err) {
      child.kill('SIGKILL');
      await this.exitWait;
      throw new Error(`board ${s.slot}: QEMU did not start: ${this.stderr.trim() || (err as Error).message}`);
    }
  }

  /** Power off: the process is killed at once, as a power cut would stop the board. */
  async powerOff(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.history.push({ kind: 'off', atMs: Date.now() });
    child.kill('SIGKILL');
    await this.exitWait;
  }

  private qmp(): Qmp {
    if (!this.qmpClient) throw new Error(`board ${this.slot} is off`);
    return this.qmpClient;
  }

  /** The reset line asserted: the machine is reset and held (no instruction runs) until it is released. */
  async holdInReset(): Promise<void> {
    if (!this.child) return;
    this.history.push({ kind: 'reset-held', atMs: Date.now() });
    await this.qmp().execute('stop');
    await this.qmp().execute('system_reset');
  }

  async releaseReset(): Promise<void> {
    if (!this.child) return;
    this.history.push({ kind: 'reset-released', atMs: Date.now() });
    await this.qmp().execute('cont');
  }

  /** The kernel hung: every CPU stops where it is (QMP stop), no watchdog or timer of the guest runs. */
  async freeze(): Promise<void> {
    await this.qmp().execute('stop');
  }

  async thaw(): Promise<void> {
    await this.qmp().execute('cont');
  }

  async runState(): Promise<string> {
    return this.qmp().status();
  }

  /** A human monitor command, for reading device registers (`xp`). */
  hmp(commandLine: string): Promise<string> {
    return this.qmp().hmp(commandLine);
  }

  /** QEMU's events of one kind since a time (host ms). */
  eventsOf(kind: string, sinceMs = 0): QmpEvent[] {
    return this.qmpEvents.filter((e) => e.event === kind && e.atMs >= sinceMs);
  }

  /** How many times the guest started its kernel, counted on the console across every power-on. */
  bootCount(): number {
    return (this.console.output.match(/Booting Linux on physical CPU/g) ?? []).length;
  }
}
