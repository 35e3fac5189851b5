// A box-wide update, decided from the boards' states and what each board reports of its firmware or its visor: one
// board at a time, the workers first and the manager last, stopping at the first failure and naming the board and
// why. The bundle's kind decides what a board does: a firmware bundle is installed into the spare slot and the board
// is rebooted into it (and commits once acknowledged); a visor bundle is installed beside the running visor, which
// the board restarts on it and keeps only when it comes up and stays up, else falls back by itself (no reboot). A
// board is taken down (rebooted, or its visor swapped) only while every other board that was up at the start is up
// and earning. Pure: the loop on the manager (rollout-loop.ts) feeds it the boards and the clock and performs its
// actions; the state is plain data, saved on the data partition, so a restarted manager carries on where it was.
import { z } from 'zod';
import { compareVersions as compareVisorVersions } from '../lib/skywire-version.js';
import { compareVersions, isVersion } from './version.js';

/** The manager is board 1: it updates last, since its reboot restarts the loop that runs the rollout. */
export const MANAGER_BOARD = 1;

/** What a rollout carries to the boards: a firmware bundle (SKYBNDL1) or a visor bundle (SKYVISR1). */
export type RolloutKind = 'firmware' | 'visor';

/**
 * How far a board's own update has got, as its heartbeat tells it. For a visor: `installed` is the new binary
 * swapped in and the visor restarted on it, on trial; `committed` kept; `rolled-back` back on the previous binary.
 */
export type UpdateStage = 'installing' | 'installed' | 'refused' | 'failed' | 'committed' | 'rolled-back';

/** A board's latest update order and how far it got; `order` names the rollout that asked for it. */
export interface UpdateReport {
  order: string;
  version: string;
  stage: UpdateStage;
  reason?: string;
}

/** What a board says of its firmware in every heartbeat (protocol/messages.ts carries it). */
export interface FirmwareReport {
  version: string;
  slot?: 'A' | 'B';
  /** This boot is the one try of a newly installed slot: it commits once the manager acknowledges it. */
  trying: boolean;
  update?: UpdateReport;
}

/** What a board says of its visor: the version its RPC gives, whether it runs, and its latest visor update. */
export interface VisorSeen {
  /** Null while the visor does not answer. */
  version: string | null;
  running: boolean;
  update?: UpdateReport;
}

/** One board as the supervisor sees it now. */
export interface BoardSeen {
  board: number;
  /** The supervisor's status (up, suspect, off, ...). */
  status: string;
  /** Up with its health checks passing: earning. */
  earning: boolean;
  /** The checks failing at its latest heartbeat, which keep an up board from earning. */
  failing?: readonly string[];
  bootId?: string;
  firmware?: FirmwareReport;
  visor?: VisorSeen;
}

export type BoardPhase =
  | 'waiting'
  /** The order went out; the board has not said it took it up yet. */
  | 'ordered'
  | 'installing'
  /** Installed; taken down into the new slot once the others are up. A visor: swapped in and on trial. */
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
  kind: RolloutKind;
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
  /**
   * From taking a board down to its new slot committed: its boot, and the board's own health limit. A visor: from
   * the swap to the board's verdict (keep or fall back), which the board reaches within its own swap limit.
   */
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
  /** Tell the board to fetch the bundle from the manager and install it (its spare slot, or its visor's). */
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
 * A new rollout of `version` from the boards as they are now. Boards not up and earning (for a visor: with their
 * visor running) are left out and listed as skipped, with why; a box with no such board, or a version older than
 * one a board runs, is refused with one line.
 */
export function planRollout(
  seen: readonly BoardSeen[],
  o: {
    id: string;
    kind?: RolloutKind;
    version: string;
    bundle: { sha256: string; bytes: number };
    now: number;
    by: string;
  },
): Rollout {
  const kind = o.kind ?? 'firmware';
  const what = KIND_WORDS[kind];
  if (!isKindVersion(kind, o.version)) throw new RolloutRefused(`not a ${what} version: ${o.version}`);
  const sorted = [...seen].sort((a, b) => order(a.board) - order(b.board));
  const upAtStart = sorted.filter((b) => upFor(kind, b)).map((b) => b.board);
  if (upAtStart.length === 0)
    throw new RolloutRefused(
      kind === 'visor'
        ? 'no board is up with its visor running: nothing to update'
        : 'no board is up: nothing to update',
    );
  for (const b of sorted) {
    const running = runningVersion(kind, b);
    if (!upFor(kind, b) || !running) continue;
    const c = compareKindVersions(kind, o.version, running);
    if (c !== null && c < 0)
      throw new RolloutRefused(`${what} ${o.version} is older than board ${b.board}'s ${running}`);
  }
  return {
    id: o.id,
    kind,
    version: o.version,
    bundle: o.bundle,
    startedAt: o.now,
    by: o.by,
    upAtStart,
    boards: sorted.map((b): BoardProgress => {
      const from = runningVersion(kind, b);
      if (upFor(kind, b))
        return { board: b.board, phase: 'waiting', since: o.now, ...(from ? { from } : {}) };
      const note =
        b.earning && kind === 'visor'
          ? 'its visor was not running at the start'
          : b.status === 'up'
            ? `up but failing ${b.failing?.length ? b.failing.join(', ') : 'its checks'} at the start`
            : `${b.status} at the start`;
      return { board: b.board, phase: 'skipped', since: o.now, note };
    }),
  };
}

const KIND_WORDS: Record<RolloutKind, string> = { firmware: 'firmware', visor: 'skywire' };

function isKindVersion(kind: RolloutKind, version: string): boolean {
  return kind === 'visor' ? compareVisorVersions(version, version) !== null : isVersion(version);
}

function compareKindVersions(kind: RolloutKind, a: string, b: string): number | null {
  if (kind === 'visor') return compareVisorVersions(a, b);
  return isVersion(a) && isVersion(b) ? compareVersions(a, b) : null;
}

/** What the board runs of what the rollout updates: its firmware, or its visor (null while it does not answer). */
function runningVersion(kind: RolloutKind, b: BoardSeen | undefined): string | undefined {
  return (kind === 'visor' ? b?.visor?.version : b?.firmware?.version) ?? undefined;
}

/** Up for this rollout: up and earning, and for a visor rollout with its visor running (a visor earns). */
function upFor(kind: RolloutKind, b: BoardSeen | undefined): boolean {
  if (!b?.earning) return false;
  return kind === 'visor' ? b.visor?.running === true : true;
}

/** What a rollout's events say of it: the version, and `kind: 'visor'` for a visor's (a firmware's says none). */
function what(r: Rollout): Record<string, unknown> {
  return r.kind === 'visor' ? { kind: 'visor', version: r.version } : { version: r.version };
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
      actions: [{ kind: 'log', board: 0, event: 'rollout-done', details: { ...what(r), boards: done } }],
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
      details: { ...what(r), reason },
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

type Enter = (phase: BoardPhase, extra?: Partial<BoardProgress>) => BoardProgress;
type Log = (event: string, details?: Record<string, unknown>) => RolloutAction;
type Fail = (note: string) => BoardDecision;

/** What every board's step builds on: entering a phase, a log line, failing, staying. */
function stepTools(r: Rollout, p: BoardProgress, now: number) {
  const enter: Enter = (phase, extra = {}) => ({
    board: p.board,
    phase,
    since: now,
    ...(p.from !== undefined ? { from: p.from } : {}),
    ...(p.bootId !== undefined ? { bootId: p.bootId } : {}),
    ...extra,
  });
  const log: Log = (event, details) => ({
    kind: 'log',
    board: p.board,
    event,
    details: { version: r.version, ...details },
  });
  const fail: Fail = (note) => ({ progress: enter('failed', { note }), actions: [] });
  const stay = (
    extra: Partial<BoardProgress> = {},
    actions: RolloutAction[] = [],
    waiting?: string,
  ): BoardDecision => ({
    progress: { ...p, ...extra },
    actions,
    ...(waiting ? { waiting } : {}),
  });
  return { enter, log, fail, stay };
}

/**
 * Why `p.board` may not be taken down now: another board that was up at the start is not up (for a visor rollout:
 * not earning with its visor running). Undefined when every other one is.
 */
function othersDown(r: Rollout, p: BoardProgress, seen: ReadonlyMap<number, BoardSeen>): string | undefined {
  const down = r.upAtStart.filter((b) => b !== p.board && !upFor(r.kind, seen.get(b)));
  if (down.length === 0) return undefined;
  const which = down
    .map((b) => {
      const s = seen.get(b);
      const status = s?.earning && r.kind === 'visor' ? 'visor not running' : (s?.status ?? 'unknown');
      return `board ${b} (${status})`;
    })
    .join(', ');
  const what = r.kind === 'visor' ? 'to swap its visor' : 'to reboot';
  return `board ${p.board} waits ${what} until ${which} ${down.length > 1 ? 'are' : 'is'} up`;
}

function boardStep(
  r: Rollout,
  p: BoardProgress,
  s: BoardSeen | undefined,
  seen: ReadonlyMap<number, BoardSeen>,
  now: number,
  limits: RolloutLimits,
): BoardDecision {
  if (r.kind === 'visor') return visorStep(r, p, s, seen, now, limits);
  const fw = s?.firmware;
  const report = fw?.update?.order === r.id ? fw.update : undefined;
  const { enter, log, fail, stay } = stepTools(r, p, now);

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
      const down = othersDown(r, p, seen);
      if (down) return stay({}, [], down);
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
  enter: Enter,
  log: Log,
  fail: Fail,
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

/**
 * One visor board's step. The order is the swap: it goes out only while the others are up with their visors
 * running, since the board installs, restarts its visor on the new binary and judges it (visor-install.ts) in one go.
 * The board's verdict ends its turn: kept, or fell back (the board is back on its previous binary by then).
 */
function visorStep(
  r: Rollout,
  p: BoardProgress,
  s: BoardSeen | undefined,
  seen: ReadonlyMap<number, BoardSeen>,
  now: number,
  limits: RolloutLimits,
): BoardDecision {
  const v = s?.visor;
  const report = v?.update?.order === r.id ? v.update : undefined;
  const { enter, log, fail, stay } = stepTools(r, p, now);
  const reason = () => report?.reason ?? 'no reason given';
  const rebooted = s?.bootId !== undefined && p.bootId !== undefined && s.bootId !== p.bootId;

  switch (p.phase) {
    case 'waiting': {
      if (v?.running && v.version === r.version)
        return {
          progress: enter('done', { note: `already running ${r.version}` }),
          actions: [log('visor-update-skipped', { reason: `already running ${r.version}` })],
        };
      if (!s?.earning)
        return stay({}, [], `board ${p.board} is ${s?.status ?? 'unknown'}: waiting for it to be up`);
      const down = othersDown(r, p, seen);
      if (down) return stay({}, [], down);
      return {
        progress: enter('ordered', {
          ...(s.bootId !== undefined ? { bootId: s.bootId } : {}),
          ...(v?.version ? { from: v.version } : {}),
          sentAt: now,
        }),
        actions: [{ kind: 'order', board: p.board }, log('visor-update-ordered')],
      };
    }
    case 'ordered':
    case 'installing':
    case 'installed': {
      if (report?.stage === 'refused') return fail(`refused the bundle: ${reason()}`);
      if (report?.stage === 'failed') return fail(`visor update failed: ${reason()}`);
      if (report?.stage === 'rolled-back')
        return fail(`fell back to its previous visor${p.from ? ` ${p.from}` : ''}: ${reason()}`);
      if (report?.stage === 'committed')
        return {
          progress: enter('done', { sentAt: undefined }),
          actions: [log('visor-update-kept', { from: p.from })],
        };
      if (rebooted)
        return fail(
          `restarted during its visor update (status ${s.status}); its visor is judged again at its next start`,
        );
      if (report?.stage === 'installed' && p.phase !== 'installed')
        return {
          progress: enter('installed', { sentAt: undefined }),
          actions: [log('visor-update-installed')],
        };
      if (report?.stage === 'installing' && p.phase === 'ordered')
        return { progress: enter('installing', { sentAt: undefined }), actions: [] };
      if (p.phase === 'ordered') {
        if (now - p.since >= limits.orderMs)
          return fail(`did not take up the visor update order within ${seconds(limits.orderMs)}`);
        if (now - (p.sentAt ?? p.since) >= limits.resendMs && s?.earning)
          return stay({ sentAt: now }, [{ kind: 'order', board: p.board }]);
        return stay();
      }
      if (p.phase === 'installing' && now - p.since >= limits.installMs)
        return fail(`visor install not done within ${seconds(limits.installMs)}`);
      if (p.phase === 'installed' && now - p.since >= limits.healthyMs)
        return fail(`no verdict on its new visor within ${seconds(limits.healthyMs)} of the swap`);
      return stay();
    }
    case 'rebooting':
    case 'committing':
      // Firmware phases only; a saved state that says otherwise is not this board's.
      return fail(`phase ${p.phase} is not one of a visor update`);
    case 'done':
    case 'skipped':
    case 'failed':
      return stay();
  }
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
  const title = r.kind === 'visor' ? `visor update to skywire ${r.version}` : `update to ${r.version}`;
  const head = r.result
    ? r.result.kind === 'done'
      ? `${title}: done`
      : `${title}: stopped at board ${r.result.board}: ${r.result.reason}`
    : `${title}: under way (${seconds(now - r.startedAt)})`;
  const lines = [head];
  if (!r.result && r.waiting) lines.push(`  ${r.waiting}`);
  for (const b of r.boards) {
    const who = b.board === MANAGER_BOARD ? `board ${b.board} (manager)` : `board ${b.board}`;
    const from = b.from && b.phase !== 'skipped' ? ` from ${b.from}` : '';
    const note = b.note ? `: ${b.note}` : '';
    lines.push(`  ${who}: ${(r.kind === 'visor' ? VISOR_PHASE_WORDS : PHASE_WORDS)[b.phase]}${from}${note}`);
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

const VISOR_PHASE_WORDS: Record<BoardPhase, string> = {
  ...PHASE_WORDS,
  installing: 'fetching and installing the new visor',
  installed: 'visor restarted on the new binary, on trial',
};

/** The short line the panel shows while a rollout runs (21 characters fit a line of the 128-pixel panel). */
export function rolloutPanelLine(r: Rollout): string {
  const total = r.boards.filter((b) => b.phase !== 'skipped').length;
  const done = r.boards.filter((b) => b.phase === 'done').length;
  const word = r.kind === 'visor' ? 'VISOR' : 'UPDATE';
  if (r.result?.kind === 'done') return `${word} ${r.version} OK`;
  if (r.result?.kind === 'stopped') return `${word} STOP B${r.result.board}`;
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
    actions: [{ kind: 'log', board, event: 'rollout-stopped', details: { ...what(r), reason } }],
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
export const rolloutSchema: z.ZodType<Rollout> = z
  .strictObject({
    id: z.string().regex(/^[0-9a-f]{8,32}$/),
    // A state saved before visor rollouts existed is a firmware rollout's.
    kind: z.enum(['firmware', 'visor']).default('firmware'),
    version: z.string().max(40),
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
  })
  .superRefine((r, ctx) => {
    if (!isKindVersion(r.kind, r.version))
      ctx.addIssue({
        code: 'custom',
        path: ['version'],
        message:
          r.kind === 'visor'
            ? 'expected a Skywire version such as v1.3.29'
            : 'expected a version such as 1.2.3',
      });
  });
