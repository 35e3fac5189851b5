import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { Simulator } from './simulator.js';

const at = z.number().min(0);
const board = z.int().min(1).max(64);
const diskName = z.string().regex(/^sd[a-z]{1,2}$/, 'expected a SATA disk name such as sda');
const reportPath = z.string().min(1).max(4096);
const span = z
  .number()
  .positive()
  .max(24 * 3600);

/** One timed fault; `at_s` counts from the simulator's start. */
export const faultSchema = z.discriminatedUnion('kind', [
  /** Silent, answers no probe, its watchdog stopped: only the reset line or the power brings it back. */
  z.strictObject({ kind: z.literal('hang'), at_s: at, board }),
  /** Reboots by itself. */
  z.strictObject({ kind: z.literal('crash'), at_s: at, board }),
  /** Hangs again `after_s` after every boot. */
  z.strictObject({ kind: z.literal('crash-loop'), at_s: at, board, after_s: span }),
  /** Silent both ways for `for_s`; the board itself is fine. */
  z.strictObject({ kind: z.literal('network-cut'), at_s: at, board, for_s: span }),
  /** The box's switch reboots: every worker is cut from the manager, and the manager's uplink is down, `for_s`. */
  z.strictObject({ kind: z.literal('switch-reboot'), at_s: at, for_s: span }),
  /**
   * The router reboots: its gateway is gone (the uplink is down) for `for_s`; the boards that hang off its own
   * ports (`boards`, all workers by default) lose the manager for `lan_s` of it (its switch chip restarts).
   */
  z.strictObject({
    kind: z.literal('router-reboot'),
    at_s: at,
    for_s: span,
    lan_s: z
      .number()
      .min(0)
      .max(24 * 3600)
      .optional(),
    boards: z.array(board).max(64).optional(),
  }),
  /** Everything the board sends leaves `delay_ms` late for `for_s`. */
  z.strictObject({
    kind: z.literal('load'),
    at_s: at,
    board,
    delay_ms: z.int().min(1).max(600_000),
    for_s: span,
  }),
  /** The whole box is off for `for_s`. */
  z.strictObject({ kind: z.literal('power-loss'), at_s: at, for_s: span, board: board.optional() }),
  /** The agent's loop freezes; the board's own watchdog must reset it. */
  z.strictObject({ kind: z.literal('agent-stall'), at_s: at, board }),
  /** From now on the disk answers smartctl with this report (a path relative to the scenario file). */
  z.strictObject({ kind: z.literal('disk-smart'), at_s: at, board, disk: diskName, smartctl: reportPath }),
  /** The disk is pulled out. */
  z.strictObject({ kind: z.literal('disk-removed'), at_s: at, board, disk: diskName }),
  /** A disk is plugged in, answering smartctl with this report. */
  z.strictObject({ kind: z.literal('disk-added'), at_s: at, board, disk: diskName, smartctl: reportPath }),
]);

/** A SATA disk present at start, answering smartctl with a recorded report. */
export const diskSchema = z.strictObject({ board, disk: diskName, smartctl: reportPath });

export const scenarioSchema = z.strictObject({
  boards: z.int().min(4).max(64).optional(),
  duration_s: z
    .number()
    .positive()
    .max(30 * 24 * 3600)
    .optional(),
  /** The emulated boards' boot time. */
  boot_ms: z.int().min(0).max(600_000).optional(),
  /** Config overrides (the TOML file's sections), e.g. shorter timings for a quick run. */
  config: z.record(z.string(), z.unknown()).optional(),
  /** The SATA disks at start; without this list, boards 1 to 4 carry a healthy disk each. */
  disks: z.array(diskSchema).max(256).optional(),
  faults: z.array(faultSchema).max(10_000),
});

export type Fault = z.infer<typeof faultSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Parses and checks a scenario; the message is one line naming the file and the faulty entry. */
export function parseScenario(text: string, source: string): Scenario {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`${source}: not JSON (${(err as Error).message})`);
  }
  const result = scenarioSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ScenarioError(`${source}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const scenario = result.data;
  const boards = scenario.boards;
  if (boards !== undefined && boards % 4 !== 0)
    throw new ScenarioError(`${source}: boards: a Skyminer has a multiple of 4 boards, got ${boards}`);
  scenario.faults.forEach((f, i) => {
    const past = boards === undefined ? undefined : faultBoards(f).find((b) => b > boards);
    if (past !== undefined)
      throw new ScenarioError(`${source}: faults.${i}.board: board ${past} of a ${boards}-board box`);
  });
  return scenario;
}

/** The boards a fault names (none for a box-wide one). */
export function faultBoards(f: Fault): number[] {
  if ('boards' in f) return f.boards ?? [];
  return 'board' in f && f.board !== undefined ? [f.board] : [];
}

export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const scenario = parseScenario(text, path);
  // smartctl reports are named relative to the scenario file, so a scenario and its reports travel together.
  const base = dirname(resolve(path));
  for (const d of scenario.disks ?? []) d.smartctl = resolve(base, d.smartctl);
  for (const f of scenario.faults) if ('smartctl' in f) f.smartctl = resolve(base, f.smartctl);
  return scenario;
}

/**
 * Plays a scenario's faults into a running simulator at their times, and marks each one in the event stream
 * (`{"event": "fault", "kind": ...}`) so that a reader can measure from the fault to the supervisor's answer.
 */
export class ScenarioRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: (() => void)[] = [];
  /** Boards in a crash loop and how long after each boot they hang again. */
  private readonly crashLoops = new Map<number, number>();

  constructor(
    private readonly sim: Simulator,
    private readonly scenario: Scenario,
  ) {}

  start(): void {
    const elapsed = Date.now() - this.sim.epochMs;
    for (const fault of this.scenario.faults) {
      this.after(fault.at_s * 1000 - elapsed, () => this.inject(fault));
    }
    this.unsubscribe.push(
      this.sim.onBoardState((b, state) => {
        const afterS = this.crashLoops.get(b);
        if (afterS !== undefined && state === 'running')
          this.after(afterS * 1000, () => this.sim.boards[b - 1]?.hang());
      }),
    );
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const u of this.unsubscribe) u();
  }

  private after(ms: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  /** Applies one fault now. */
  inject(fault: Fault): void {
    const sim = this.sim;
    const t = Math.round((Date.now() - sim.epochMs) / 10) / 100;
    const { kind, at_s: _at, ...details } = fault;
    const board = 'board' in details ? (details.board ?? 0) : 0;
    if ('board' in details) delete details.board;
    sim.record({ t, board, event: 'fault', kind, ...details });
    const now = Date.now();
    switch (fault.kind) {
      case 'hang':
        sim.boards[fault.board - 1]?.hang();
        return;
      case 'crash':
        sim.boards[fault.board - 1]?.crash();
        return;
      case 'crash-loop':
        this.crashLoops.set(fault.board, fault.after_s);
        sim.boards[fault.board - 1]?.hang();
        return;
      case 'network-cut': {
        const link = sim.links.get(fault.board);
        if (link) link.cutUntil = now + fault.for_s * 1000;
        return;
      }
      case 'switch-reboot':
        sim.uplinkDownUntil = now + fault.for_s * 1000;
        for (const [b, link] of sim.links) if (b !== 1) link.cutUntil = now + fault.for_s * 1000;
        return;
      case 'router-reboot': {
        sim.uplinkDownUntil = now + fault.for_s * 1000;
        const lanMs = (fault.lan_s ?? fault.for_s) * 1000;
        for (const [b, link] of sim.links)
          if (b !== 1 && (fault.boards?.includes(b) ?? true)) link.cutUntil = now + lanMs;
        return;
      }
      case 'load': {
        const link = sim.links.get(fault.board);
        if (link) {
          link.delayMs = fault.delay_ms;
          link.delayUntil = now + fault.for_s * 1000;
        }
        return;
      }
      case 'power-loss':
        void sim.powerLoss(fault.for_s * 1000);
        return;
      case 'agent-stall':
        sim.boards[fault.board - 1]?.stallSoftware();
        return;
      case 'disk-smart':
        void sim.hardware?.setSmart(fault.board, fault.disk, fault.smartctl);
        return;
      case 'disk-removed':
        void sim.hardware?.removeDisk(fault.board, fault.disk);
        return;
      case 'disk-added':
        void sim.hardware?.addDisk(fault.board, fault.disk, fault.smartctl);
        return;
    }
  }
}
