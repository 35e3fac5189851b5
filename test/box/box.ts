// The whole box under QEMU: the manager (slot 1) and the workers, each a virt machine booted from its own copy
// of the image, on one LAN (a hub on loopback), with the manager's power and reset lines wired to the workers.
// The wiring reads the lines from QEMU itself (the manager's PL061 outputs, QEMU's pl061_set_output trace),
// never from anything the firmware says, and turns them into the workers' power and reset.
import { copyFile, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SkywireJson } from '../../firmware/rewards/skywire-output.js';
import { extractBootFiles } from '../../images/emulator/qemu-session.js';
import { UBOOT_QEMU_ARM64 } from '../../images/emulator/uboot.js';
import { BoardMachine, type BoardSpec } from './board.js';
import { consoleText } from './console-log.js';
import { Lan } from './lan.js';
import { slotFlash, ubootDefaultEnv } from './uboot-flash.js';

/**
 * The manager's lines for each worker on its PL061 (8 lines): board n's power on line n - 2, its reset on
 * line n + 2 (line 3, the virt machine's power button input, stays free). The image's config says the same
 * (images/boards/qemu-virt-arm64.toml).
 */
export function linesOf(board: number): { power: number; reset: number } {
  return { power: board - 2, reset: board + 2 };
}

export interface LineEdge {
  line: number;
  level: number;
  atMs: number;
}

export interface BoxOptions {
  image: string;
  /** Boards in the box, the manager included. */
  boards: number;
  /** Memory of every board, or of each board in slot order (boards that differ report different figures). */
  memoryMib?: number | readonly number[];
  /** The LAN to join (one with more on it than the boards); else a LAN of the boards alone. */
  lan?: Lan;
  /**
   * Boot every board through Debian's U-Boot, each with its own environment bank (test/box/uboot-flash.ts), under
   * this QEMU (one whose flash writes are kept: images/emulator/uboot.ts): the boards can then update themselves.
   * Else QEMU loads the image's kernel directly.
   */
  uboot?: { qemu: string };
  /** More disks for a board, by slot (`-drive` specs). */
  drives?: Record<number, string[]>;
}

export class Box {
  /** Every change of the manager's outputs QEMU reported, in order. */
  readonly edges: LineEdge[] = [];
  /** The manager's output levels, as QEMU last reported them (all 0 at power-on: the lines are pulled down). */
  readonly levels: number[] = new Array<number>(8).fill(0);
  /** Line work per worker runs in order, so a reset never overtakes the power-on before it. */
  private readonly chains = new Map<number, Promise<void>>();
  /** Wires the harness has cut (`<slot>:power`, `<slot>:reset`): their edges are recorded and not acted on. */
  private readonly cut = new Set<string>();
  /** Errors met while acting on a line, reported by the tests rather than lost. */
  readonly wiringErrors: string[] = [];

  private constructor(
    readonly boards: BoardMachine[],
    readonly lan: Lan,
    private readonly dir: string,
  ) {}

  get manager(): BoardMachine {
    return this.boards[0]!;
  }

  board(slot: number): BoardMachine {
    const b = this.boards[slot - 1];
    if (!b) throw new Error(`no board ${slot} in this box`);
    return b;
  }

  /** Makes the box (every card a fresh copy of the image) and switches the manager on; the workers wait. */
  static async start(o: BoxOptions): Promise<Box> {
    const dir = await mkdtemp(join(tmpdir(), 'skyminer-box-'));
    const direct = o.uboot ? undefined : await extractBootFiles(o.image, dir);
    const ubootEnv = o.uboot ? await ubootDefaultEnv(o.uboot.qemu) : undefined;
    const lan = o.lan ?? (await Lan.start());
    const boards: BoardMachine[] = [];
    // The manager's trace reaches the box once it exists (the manager is switched on after).
    const ref: { box?: Box } = {};
    for (let slot = 1; slot <= o.boards; slot++) {
      const disk = join(dir, `card${slot}.img`);
      // A copy per card, shared blocks where the filesystem can (a reflink), else a plain copy.
      await copyFile(o.image, disk, constants.COPYFILE_FICLONE);
      let boot: BoardSpec['boot'];
      if (direct) {
        boot = {
          kind: 'direct',
          kernel: direct.kernel,
          ...(direct.initrd ? { initrd: direct.initrd } : {}),
          append: `${direct.append} skyminer.slot=${slot}`,
        };
      } else {
        const flash = join(dir, `flash${slot}.img`);
        await slotFlash(flash, ubootEnv!, slot);
        boot = { kind: 'uboot', qemu: o.uboot!.qemu, bios: UBOOT_QEMU_ARM64, flash };
      }
      boards.push(
        new BoardMachine({
          slot,
          disk,
          boot,
          ...(o.drives?.[slot] ? { drives: o.drives[slot] } : {}),
          dir,
          netdev: lan.netdev('box'),
          memoryMib: (typeof o.memoryMib === 'number' ? o.memoryMib : o.memoryMib?.[slot - 1]) ?? 768,
          // The manager runs the supervisor, the console and its own agent, and its watchdog resets it if the
          // supervisor starves: two CPUs and the host's first call on time; the workers take what is left.
          cpus: slot === 1 ? 2 : 1,
          nice: slot === 1 ? 0 : 10,
          ...(slot === 1
            ? { trace: ['pl061_set_output'], onTrace: (line, atMs) => ref.box?.onTrace(line, atMs) }
            : {}),
        }),
      );
    }
    const box = new Box(boards, lan, dir);
    ref.box = box;
    await box.powerOnManager();
    return box;
  }

  /** A worker's card replaced by a fresh copy of `image`, as an owner reflashing it would; the board must be off. */
  async reflash(slot: number, image: string): Promise<void> {
    const b = this.board(slot);
    if (b.powered) throw new Error(`board ${slot} is on: switch it off before changing its card`);
    await copyFile(image, b.spec.disk, constants.COPYFILE_FICLONE);
  }

  /** The manager switched on (the box's supply on): its lines start pulled down, every worker off. */
  async powerOnManager(): Promise<void> {
    this.levels.fill(0);
    await this.manager.powerOn();
  }

  /** The whole box loses power: every machine stops at once. */
  async powerLoss(): Promise<void> {
    await Promise.all(this.chains.values());
    await Promise.all(this.boards.map((b) => b.powerOff()));
    this.levels.fill(0);
  }

  private onTrace(line: string, atMs: number): void {
    const m = /setting output (\d+) to (\d+)/.exec(line);
    if (!m) return;
    const edge = { line: Number(m[1]), level: Number(m[2]), atMs };
    // QEMU also reports every line as 0 when the machine starts: only a change of level is an edge.
    if (this.levels[edge.line] === edge.level) return;
    this.edges.push(edge);
    this.levels[edge.line] = edge.level;
    for (const b of this.boards.slice(1)) {
      const wires = linesOf(b.slot);
      if (edge.line === wires.power && this.cut.has(`${b.slot}:power`)) continue;
      if (edge.line === wires.reset && this.cut.has(`${b.slot}:reset`)) continue;
      if (edge.line === wires.power)
        this.onLine(b, () => (edge.level ? b.powerOn() : b.powerOff()), `power ${edge.level}`);
      else if (edge.line === wires.reset)
        // Active high: asserted holds the board in reset, released lets it boot.
        this.onLine(b, () => (edge.level ? b.holdInReset() : b.releaseReset()), `reset ${edge.level}`);
    }
  }

  /**
   * Cuts a worker's power or reset wire: the manager's line still moves (QEMU reports it), the board no longer
   * feels it, as with a broken wire. For tests of what a board does alone (its own watchdog).
   */
  cutWire(slot: number, wire: 'power' | 'reset'): void {
    this.cut.add(`${slot}:${wire}`);
  }

  mendWire(slot: number, wire: 'power' | 'reset'): void {
    this.cut.delete(`${slot}:${wire}`);
  }

  private onLine(board: BoardMachine, op: () => Promise<void>, what: string): void {
    const chain = (this.chains.get(board.slot) ?? Promise.resolve()).then(op).catch((err: unknown) => {
      this.wiringErrors.push(`board ${board.slot} ${what}: ${(err as Error).message}`);
    });
    this.chains.set(board.slot, chain);
  }

  /** What QEMU did to each machine (its events, its power history, its boots), for a failing test's message. */
  describe(): string {
    const t0 = this.manager.history[0]?.atMs ?? 0;
    const at = (ms: number): string => `+${((ms - t0) / 1000).toFixed(1)}s`;
    return this.boards
      .map(
        (b) =>
          `board ${b.slot}: ${b.bootCount()} boots; ` +
          [
            ...b.history.map((h) => ({ atMs: h.atMs, what: h.kind })),
            ...b.qmpEvents.map((e) => ({
              atMs: e.atMs,
              what: `${e.event}${e.data ? JSON.stringify(e.data) : ''}`,
            })),
          ]
            .sort((x, y) => x.atMs - y.atMs)
            .map((x) => `${at(x.atMs)} ${x.what}`)
            .join(', '),
      )
      .join('; ');
  }

  /** The edges of one line since a time. */
  edgesOf(line: number, sinceMs = 0): LineEdge[] {
    return this.edges.filter((e) => e.line === line && e.atMs >= sinceMs);
  }

  /** The manager's PL061 data and direction registers, read by QEMU's monitor (not by the guest). */
  async readLineRegisters(): Promise<{ data: number; dir: number }> {
    const text = await this.manager.hmp('xp /2wx 0x090303fc');
    // "00000000090303fc: 0x00000011 0x000000ff": the address, then the two words.
    const words = [...text.slice(text.indexOf(':') + 1).matchAll(/0x([0-9a-f]+)/g)].map((m) =>
      parseInt(m[1]!, 16),
    );
    if (words.length < 2) throw new Error(`xp: unexpected answer ${JSON.stringify(text)}`);
    return { data: words[0]!, dir: words[1]! };
  }

  async close(): Promise<void> {
    await Promise.all(this.boards.map((b) => b.powerOff()));
    await this.lan.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The console's prompt, as the last thing on the line: readline may follow it with a cursor move (ESC [ n G). */
const PROMPT = 'skyminer> (?:\\x1b\\[\\d+G)?';

/** Logs in on a board's serial console (the skyminer console, as an owner at the port would). */
export async function login(board: BoardMachine, password: string, timeoutMs = 300_000): Promise<void> {
  const c = board.console;
  // A fresh prompt, whatever the port printed before: an empty line at the password prompt asks again.
  c.skipToEnd();
  c.send('\r');
  await c.expect(/password: /, timeoutMs);
  c.send(`${password}\r`);
  await c.expect(new RegExp(`type help for the commands[\\s\\S]*?${PROMPT}`), 60_000);
}

/** Logs in on the manager's serial console. */
export function loginManager(box: Box, password: string, timeoutMs = 300_000): Promise<void> {
  return login(box.manager, password, timeoutMs);
}

/** Runs a console command at the manager's prompt and returns what it printed (without the echo and prompt). */
export async function managerCommand(box: Box, command: string, timeoutMs = 60_000): Promise<string> {
  const c = box.manager.console;
  c.skipToEnd();
  c.send(`${command}\r`);
  const m = await c.expect(new RegExp(`${escape(command)}\\r*\\n([\\s\\S]*?)${PROMPT}`), timeoutMs);
  return consoleText(m[1]!);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The JSON array a `--json` console command printed at the manager's prompt. */
export function managerJson<T>(box: Box, command: string): Promise<T[]> {
  return managerJsonOf<T[]>(box, command, '[', ']');
}

/** The JSON object a `--json` console command printed at the manager's prompt. */
export function managerJsonObject<T>(box: Box, command: string): Promise<T> {
  return managerJsonOf<T>(box, command, '{', '}');
}

async function managerJsonOf<T>(box: Box, command: string, open: string, close: string): Promise<T> {
  const text = await managerCommand(box, command);
  const start = text.indexOf(open);
  if (start < 0) throw new Error(`${command}: no JSON in ${JSON.stringify(text.slice(0, 300))}`);
  return JSON.parse(text.slice(start, text.lastIndexOf(close) + 1)) as T;
}

/** One board as `boards --json` tells it, read through the manager's console. */
export interface BoardReport {
  board: number;
  role: string;
  status: string;
  for_s: number;
  uptime_s: number | null;
  healthy: boolean | null;
  failing: string[];
  figures: { mem_total_bytes: number | null; mem_used_bytes: number | null; load1: number | null } | null;
  inventory: { mac: string | null; mem_total_bytes: number | null; kernel: string | null } | null;
  /** The board's Skywire visor as its agent reports it; null: no visor service. */
  visor: {
    status: string;
    pk: string | null;
    dmsg_connected: boolean | null;
    hypervisor_pk: string | null;
    hypervisor_connected: boolean | null;
  } | null;
}

/** `skywire --json` at the manager's console: each board's visor as the manager's hypervisor lists it. */
export type SkywireReport = SkywireJson;

export function skywireJson(box: Box): Promise<SkywireReport> {
  return managerJsonObject<SkywireReport>(box, 'skywire --json');
}

export function boardsJson(box: Box): Promise<BoardReport[]> {
  return managerJson<BoardReport>(box, 'boards --json');
}

/** One supervisor event as `events --json` tells it: `t` in seconds of the supervisor's own clock. */
export interface EventReport {
  t: number;
  board: number;
  event: string;
  [detail: string]: unknown;
}

export function eventsJson(box: Box, board?: number): Promise<EventReport[]> {
  return managerJson<EventReport>(box, `events --json${board === undefined ? '' : ` --board ${board}`}`);
}

/** From a logged-in console prompt, opens the board's root shell as a quiet command channel. */
export async function openShell(board: BoardMachine): Promise<void> {
  const c = board.console;
  c.send('shell\r');
  await c.expect(new RegExp(`skyminer-${board.slot}:~# `), 60_000);
  await c.quietShell();
}

/** Leaves a quiet root shell for the console's prompt. */
export async function closeShell(board: BoardMachine): Promise<void> {
  const c = board.console;
  c.send('exit\n');
  await c.expect(new RegExp(PROMPT), 60_000);
}

/** Logs in on the manager's console and opens its root shell as a quiet command channel. */
export async function managerShell(box: Box, password: string): Promise<void> {
  await loginManager(box, password);
  await openShell(box.manager);
}
