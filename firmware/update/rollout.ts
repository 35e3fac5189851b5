// A box-wide update, decided from the boards' states and what each board reports of its firmware: one board at a
// time, the workers first and the manager last, stopping at the first failure and naming the board and why. A board
// is taken down (rebooted into its new slot) only while every other board that was up at the start is up and
// earning. Pure: the loop on the manager (rollout-loop.ts) feeds it the boards and the clock and performs its
// actions; the state is plain data, saved on the data partition, so a restarted manager carries on where it was.
import { z } from 'zod';
import { compareVersions, isVersion } from './version.js';

/** The manager is board 1: it updates last, since its reboot restarts the loop that runs the rollout. */
export const MANAGER_BOARD = 1;

/** How far a board's own update has got, as its heartbeat tells it. */
export type UpdateStage = 'installing' | 'installed' | 'refused' | 'failed' | 'committed' | 'rolled-back';

/** What a board says of its firmware in every heartbeat (protocol/messages.ts carries it). */
export interface FirmwareReport {
  version: string;
  slot?: 'A' | 'B';
  /** This boot is the one try of a newly installed slot: it commits once the manager acknowledges it. */
  trying: boolean;
  /** The board's latest update order and how far it got; `order` names the rollout that asked for it. */
  update?: { order: string; version: string; stage: UpdateStage; reason?: string };
}

/** One board as the supervisor sees it now. */
export interface BoardSeen {
  board: number;
  /** The supervisor's status (up, suspect, off, ...). */
  status: string;
  /** Up with its health checks passing: earning. */
  earning: boolean;
  bootId?: string;
  firmware?: FirmwareReport;
}

export type BoardPhase =
  | 'waiting'
  /** The order went out; the board has not said it took it up yet. */
  | 'ordered'
  | 'installing'
  /** Installed; taken down into the new slot once the others are up. */
  | 'installed'
  | 'rebooting'
  /** The trial boot is heard and healthy: the manager acknowledged it, waiting for the commit. */
  | 'committing'
  | 'done'
  | 'failed'
  /** Not up when the rollout started: left alone. */
  | 'skipped';

export interface BoardProgress {
  board: number;
  phase: BoardPhase;
  /** When the phase began (wall-clock ms, so that it means the same after a manager restart). */
  since: number;
  /** The boot the board was in when ordered or taken down: a different one is the board back from its reboot. */
  bootId?: string;
  /** The firmware it ran before. */
  from?: string;
  /** Why it failed or was skipped, or what it is waiting for. */
  note?: string;
  /** When an order or a commit was last sent, to send it again if it was lost. */
  sentAt?: number;
}

export type RolloutResult =
  { kind: 'done'; at: number } | { kind: 'stopped'; at: number; board: number; reason: string };

export interface Rollout {
  /** Random per rollout: it names the orders, so a board's report is matched to this rollout only. */
  id: string;
  version: string;
  /** The bundle file the manager serves. */
  bundle: { sha256: string; bytes: number };
  startedAt: number;
  by: string;
  /** Boards up and earning at the start: none of them may be down while another is taken down. */
  upAtStart: number[];
  /** In update order: workers by number, the manager last. */
  boards: BoardProgress[];
  /** Why the current board waits (another board is down), shown while it does. */
  waiting?: string;
  result?: RolloutResult;
}

export interface RolloutLimits {
  /** From the order to the board's first report of it. */
  orderMs: number;
  /** From the order to an installed slot. */
  installMs: number;
  /** From taking a board down to its new slot committed: its boot, and the board's own health limit. */
  healthyMs: number;
  /** An order or a commit not answered within this is sent again (datagrams may be lost). */
  resendMs: number;
}

export const DEFAULT_ROLLOUT_LIMITS: RolloutLimits = {
  orderMs: 60_000,
  installMs: 30 * 60_000,
  healthyMs: 10 * 60_000,
  resendMs: 5_000,
};

export type RolloutAction =
  /** Tell the board to fetch the bundle from the manager and install it into its spare slot. */
  | { kind: 'order'; board: number }
  /** Take the board down: reboot it into its new slot (its supervisor must expect the silence). */
  | { kind: 'reboot'; board: number; bootId: string }
  /** Acknowledge the board's trial boot: it commits its new slot. */
  | { kind: 'commit'; board: number; bootId: string }
  | { kind: 'log'; board: number; event: string; details?: Record<string, unknown> };

export interface RolloutStep {
  rollout: Rollout;
  actions: RolloutAction[];
}

export class RolloutRefused extends Error {
  override readonly name = 'RolloutRefused';
}

/**
 * A new rollout of `version` from the boards as they are now. Boards not up and earning are left out (and
 * listed as skipped, with their status); a box with no board up, or a version older than one a board runs, is
 * refused with one line.
 */
export function planRollout(
  seen: readonly BoardSeen[],
  o: { id: string; version: string; bundle: { sha256: string; bytes: number }; now: number; by: string },
): Rollout {
  if (!isVersion(o.version)) throw new RolloutRefused(`not a firmware version: ${o.version}`);
  const sorted = [...seen].sort((a, b) => order(a.board) - order(b.board));
  const upAtStart = sorted.filter((b) => b.earning).map((b) => b.board);
  if (upAtStart.length === 0) throw new RolloutRefused('no board is up: nothing to update');
  for (const b of sorted) {
    const running = b.firmware?.version;
    if (b.earning && running && isVersion(running) && compareVersions(o.version, running) < 0)
      throw new RolloutRefused(`firmware ${o.version} is older than board ${b.board}'s ${running}`);
  }
  return {
    id: o.id,
    version: o.version,
    bundle: o.bundle,
    startedAt: o.now,
    by: o.by,
    upAtStart,
    boards: sorted.map((b) =>
      b.earning
        ? {
            board: b.board,
            phase: 'waiting',
            since: o.now,
            ...(b.firmware ? { from: b.firmware.version } : {}),
          }
        : { board: b.board, phase: 'skipped', since: o.now, note: `${b.status} at the start` },
    ),
  };
}

/** Workers by number, the manager last. */
function order(board: number): number {
  return board === MANAGER_BOARD ? Number.MAX_SAFE_INTEGER : board;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The next step of a rollout: its new state and what to do. Call it on every change and on a clock tick. */
export function stepRollout(
  r: Rollout,
  seen: ReadonlyMap<number, BoardSeen>,
  now: number,
  limits: RolloutLimits = DEFAULT_ROLLOUT_LIMITS,
): RolloutStep {
  if (r.result) return { rollout: r, actions: [] };
  const i = r.boards.findIndex((b) => b.phase !== 'done' && b.phase !== 'skipped');
  if (i < 0) {
    const done = r.boards.filter((b) => b.phase === 'done').map((b) => b.board);
    return {
      rollout: { ...r, waiting: undefined, result: { kind: 'done', at: now } },
      actions: [
        { kind: 'log', board: 0, event: 'rollout-done', details: { version: r.version, boards: done } },
      ],
    };
  }
  const p = r.boards[i]!;
  const s = seen.get(p.board);
  const d = boardStep(r, p, s, seen, now, limits);
  const boards = r.boards.map((b, j) => (j === i ? d.progress : b));
  let rollout: Rollout = { ...r, boards, waiting: d.waiting };
  if (d.progress.phase === 'failed') {
    const reason = d.progress.note ?? 'failed';
    rollout = {
      ...rollout,
      waiting: undefined,
      result: { kind: 'stopped', at: now, board: p.board, reason },
    };
    d.actions.push({
      kind: 'log',
      board: p.board,
      event: 'rollout-stopped',
      details: { version: r.version, reason },
    });
  }
  if (rollout.waiting === undefined) delete rollout.waiting;
  // A board finished: the next one starts in the same step, so a rollout never idles for a tick.
  if (d.progress.phase === 'done' && p.phase !== 'done') {
    const next = stepRollout(rollout, seen, now, limits);
    return { rollout: next.rollout, actions: [...d.actions, ...next.actions] };
  }
  return { rollout, actions: d.actions };
}

interface BoardDecision {
  progress: BoardProgress;
  actions: RolloutAction[];
  waiting?: string;
}

function boardStep(
  r: Rollout,
  p: BoardProgress,
  s: BoardSeen | undefined,
  seen: ReadonlyMap<number, BoardSeen>,
  now: number,
  limits: RolloutLimits,
): BoardDecision {
  const fw = s?.firmware;
  const report = fw?.update?.order === r.id ? fw.update : undefined;
  const enter = (phase: BoardPhase, extra: Partial<BoardProgress> = {}): BoardProgress => ({
    board: p.board,
    phase,
    since: now,
    ...(p.from !== undefined ? { from: p.from } : {}),
    ...(p.bootId !== undefined ? { bootId: p.bootId } : {}),
    ...extra,
  });
  const log = (event: string, details?: Record<string, unknown>): RolloutAction => ({
    kind: 'log',
    board: p.board,
    event,
    details: { version: r.version, ...details },
  });
  const fail = (note: string): BoardDecision => ({ progress: enter('failed', { note }), actions: [] });
  const stay = (extra: Partial<BoardProgress> = {}, actions: RolloutAction[] = [], waiting?: string) => ({
    progress: { ...p, ...extra },
    actions,
    ...(waiting ? { waiting } : {}),
  });

  switch (p.phase) {
    case 'waiting': {
      if (fw && fw.version === r.version && !fw.trying)
        return {
          progress: enter('done', { note: `already running ${r.version}` }),
          actions: [log('update-skipped', { reason: `already running ${r.version}` })],
        };
      if (!s?.earning)
        return stay({}, [], `board ${p.board} is ${s?.status ?? 'unknown'}: waiting for it to be up`);
      return {
        progress: enter('ordered', {
          ...(s.bootId !== undefined ? { bootId: s.bootId } : {}),
          ...(fw ? { from: fw.version } : {}),
          sentAt: now,
        }),
        actions: [{ kind: 'order', board: p.board }, log('update-ordered')],
      };
    }
    case 'ordered':
    case 'installing': {
      if (report?.stage === 'refused')
        return fail(`refused the bundle: ${report.reason ?? 'no reason given'}`);
      if (report?.stage === 'failed') return fail(`install failed: ${report.reason ?? 'no reason given'}`);
      if (s?.bootId !== undefined && p.bootId !== undefined && s.bootId !== p.bootId)
        return fail(`restarted during the install (status ${s.status}); its running slot is unchanged`);
      if (report?.stage === 'installed')
        return { progress: enter('installed'), actions: [log('update-installed')] };
      if (report?.stage === 'installing' && p.phase === 'ordered')
        return { progress: enter('installing', { sentAt: undefined }), actions: [] };
      if (p.phase === 'ordered') {
        if (now - p.since >= limits.orderMs)
          return fail(`did not take up the update order within ${seconds(limits.orderMs)}`);
        if (now - (p.sentAt ?? p.since) >= limits.resendMs && s?.earning)
          return stay({ sentAt: now }, [{ kind: 'order', board: p.board }]);
        return stay();
      }
      if (now - p.since >= limits.installMs)
        return fail(`install not done within ${seconds(limits.installMs)}`);
      return stay();
    }
    case 'installed': {
      if (report?.stage === 'failed' || report?.stage === 'refused')
        return fail(`install failed: ${report.reason ?? 'no reason given'}`);
      if (s?.bootId !== undefined && p.bootId !== undefined && s.bootId !== p.bootId)
        return afterReboot(r, { ...p, phase: 'rebooting' }, s, now, limits, enter, log, fail);
      // No two boards down at once: every other board that was up at the start must be up and earning now.
      const down = r.upAtStart.filter((b) => b !== p.board && !seen.get(b)?.earning);
      if (down.length > 0) {
        const which = down.map((b) => `board ${b} (${seen.get(b)?.status ?? 'unknown'})`).join(', ');
        return stay(
          {},
          [],
          `board ${p.board} waits to reboot until ${which} ${down.length > 1 ? 'are' : 'is'} up`,
        );
      }
      if (!s?.bootId) return stay({}, [], `board ${p.board} is ${s?.status ?? 'unknown'}`);
      return {
        progress: enter('rebooting', { bootId: s.bootId }),
        actions: [{ kind: 'reboot', board: p.board, bootId: s.bootId }],
      };
    }
    case 'rebooting':
    case 'committing':
      return afterReboot(r, p, s, now, limits, enter, log, fail);
    case 'done':
    case 'skipped':
    case 'failed':
      return stay();
  }
}

/** The board was taken down: its new boot on the new slot is acknowledged and commits, or it came back without. */
function afterReboot(
  r: Rollout,
  p: BoardProgress,
  s: BoardSeen | undefined,
  now: number,
  limits: RolloutLimits,
  enter: (phase: BoardPhase, extra?: Partial<BoardProgress>) => BoardProgress,
  log: (event: string, details?: Record<string, unknown>) => RolloutAction,
  fail: (note: string) => BoardDecision,
): BoardDecision {
  const fw = s?.firmware;
  const bootId = s?.bootId;
  const elapsed = now - p.since;
  if (s && bootId !== undefined && bootId !== p.bootId && fw) {
    if (fw.version === r.version && !fw.trying)
      return {
        progress: enter('done', { bootId, sentAt: undefined }),
        actions: [log('update-committed', { from: p.from, slot: fw.slot })],
      };
    if (fw.version === r.version && fw.trying) {
      if (!s.earning) return stayTimed(p, elapsed, limits, fail);
      // Its heartbeats are taken and its checks pass: acknowledged. The board commits its slot on this.
      if (p.phase === 'rebooting' || now - (p.sentAt ?? 0) >= limits.resendMs)
        return {
          progress: { ...p, phase: 'committing', sentAt: now },
          actions: [{ kind: 'commit', board: p.board, bootId }],
        };
      return stayTimed(p, elapsed, limits, fail);
    }
    // Back on another firmware: the new slot did not commit and the board fell back.
    const why =
      fw.update?.order === r.id && fw.update.stage === 'rolled-back' && fw.update.reason
        ? fw.update.reason
        : `back on firmware ${fw.version}`;
    return fail(`rolled back: ${why}`);
  }
  return stayTimed(p, elapsed, limits, fail);
}

function stayTimed(
  p: BoardProgress,
  elapsed: number,
  limits: RolloutLimits,
  fail: (note: string) => BoardDecision,
): BoardDecision {
  if (elapsed >= limits.healthyMs)
    return fail(`not healthy within ${seconds(limits.healthyMs)} of its reboot`);
  return { progress: p, actions: [] };
}

/** One line per board and one for the rollout, for the console's `update status`. */
export function rolloutLines(r: Rollout, now: number): string[] {
  const head = r.result
    ? r.result.kind === 'done'
      ? `update to ${r.version}: done`
      : `update to ${r.version}: stopped at board ${r.result.board}: ${r.result.reason}`
    : `update to ${r.version}: under way (${seconds(now - r.startedAt)})`;
  const lines = [head];
  if (!r.result && r.waiting) lines.push(`  ${r.waiting}`);
  for (const b of r.boards) {
    const who = b.board === MANAGER_BOARD ? `board ${b.board} (manager)` : `board ${b.board}`;
    const from = b.from && b.phase !== 'skipped' ? ` from ${b.from}` : '';
    const note = b.note ? `: ${b.note}` : '';
    lines.push(`  ${who}: ${PHASE_WORDS[b.phase]}${from}${note}`);
  }
  return lines;
}

const PHASE_WORDS: Record<BoardPhase, string> = {
  waiting: 'waiting its turn',
  ordered: 'ordered',
  installing: 'installing into its spare slot',
  installed: 'installed, to reboot',
  rebooting: 'rebooting into the new slot',
  committing: 'up on the new slot, committing',
  done: 'done',
  failed: 'FAILED',
  skipped: 'skipped',
};

/** The short line the panel shows while a rollout runs (21 characters fit a line of the 128-pixel panel). */
export function rolloutPanelLine(r: Rollout): string {
  const total = r.boards.filter((b) => b.phase !== 'skipped').length;
  const done = r.boards.filter((b) => b.phase === 'done').length;
  if (r.result?.kind === 'done') return `UPDATE ${r.version} OK`;
  if (r.result?.kind === 'stopped') return `UPDATE STOP B${r.result.board}`;
  const current = r.boards.find((b) => b.phase !== 'done' && b.phase !== 'skipped');
  return `UPD ${done}/${total} B${current?.board ?? '-'} ${current ? PANEL_PHASE[current.phase] : ''}`.trim();
}

/**
 * The panel's alert while a rollout runs or after it stopped (none once done): `short` fits 10 large characters,
 * `text` 21 small ones.
 */
export function rolloutPanelAlert(r: Rollout): { short: string; text: string } | undefined {
  if (r.result?.kind === 'done') return undefined;
  if (r.result?.kind === 'stopped') return { short: 'UPD STOP', text: `stopped at board ${r.result.board}` };
  const total = r.boards.filter((b) => b.phase !== 'skipped').length;
  const done = r.boards.filter((b) => b.phase === 'done').length;
  const current = r.boards.find((b) => b.phase !== 'done' && b.phase !== 'skipped');
  const what =
    r.waiting && current?.phase === 'installed' ? 'waits' : current ? PANEL_WORD[current.phase] : '';
  return { short: `UPD ${done}/${total}`, text: current ? `board ${current.board} ${what}` : r.version };
}

const PANEL_WORD: Record<BoardPhase, string> = {
  waiting: 'next',
  ordered: 'ordered',
  installing: 'installing',
  installed: 'installed',
  rebooting: 'rebooting',
  committing: 'committing',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
};

const PANEL_PHASE: Record<BoardPhase, string> = {
  waiting: 'WAIT',
  ordered: 'ORDER',
  installing: 'INST',
  installed: 'INST',
  rebooting: 'BOOT',
  committing: 'TRY',
  done: 'OK',
  failed: 'FAIL',
  skipped: 'SKIP',
};

/** The owner stops a rollout: boards already done keep their new slot, the one under way finishes its own try. */
export function stopRollout(r: Rollout, now: number, by: string): RolloutStep {
  if (r.result) return { rollout: r, actions: [] };
  const current = r.boards.find((b) => b.phase !== 'done' && b.phase !== 'skipped');
  const board = current?.board ?? 0;
  const reason = `stopped by ${by}`;
  return {
    rollout: { ...r, waiting: undefined, result: { kind: 'stopped', at: now, board, reason } },
    actions: [{ kind: 'log', board, event: 'rollout-stopped', details: { version: r.version, reason } }],
  };
}

const phase = z.enum([
  'waiting',
  'ordered',
  'installing',
  'installed',
  'rebooting',
  'committing',
  'done',
  'failed',
  'skipped',
]);
const board = z.int().min(1).max(64);

/** A rollout as saved on the data partition: read back by a restarted manager, refused whole if damaged. */
export const rolloutSchema: z.ZodType<Rollout> = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{8,32}$/),
  version: z.string().refine(isVersion, 'expected a version such as 1.2.3'),
  bundle: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.int().nonnegative() }),
  startedAt: z.number(),
  by: z.string().max(200),
  upAtStart: z.array(board).max(64),
  boards: z
    .array(
      z.strictObject({
        board,
        phase,
        since: z.number(),
        bootId: z.string().max(64).optional(),
        from: z.string().max(40).optional(),
        note: z.string().max(400).optional(),
        sentAt: z.number().optional(),
      }),
    )
    .max(64),
  waiting: z.string().max(400).optional(),
  result: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('done'), at: z.number() }),
      z.strictObject({
        kind: z.literal('stopped'),
        at: z.number(),
        board: z.int().min(0).max(64),
        reason: z.string().max(400),
      }),
    ])
    .optional(),
});
