// The box-wide rollout decision for a visor bundle, on a fake clock, against a box of four boards modelled in plain
// data: each board takes the order, installs, restarts its visor on the new binary (down for a moment) and keeps it,
// or falls back to its previous binary by itself, as told. No board is ever rebooted.
import { describe, expect, it } from 'vitest';
import {
  planRollout,
  rolloutLines,
  rolloutPanelLine,
  RolloutRefused,
  rolloutSchema,
  stepRollout,
  stopRollout,
  type BoardSeen,
  type Rollout,
  type RolloutAction,
} from '../../../firmware/update/rollout.js';

type Fault = 'falls-back' | 'other-arch' | 'silent' | 'reboots';

/** How long a board takes to fetch and install, and its visor to come back on the new binary and be judged. */
const INSTALL_MS = 20_000;
const RESTART_MS = 5_000;
const JUDGE_MS = 40_000;

class FakeBoard {
  seen: BoardSeen;
  fault?: Fault;
  /** The order under way and when its next stage is due. */
  private job: {
    order: string;
    version: string;
    stage: 'installing' | 'restarting' | 'judging';
    at: number;
  } | null = null;
  constructor(
    readonly board: number,
    version: string,
  ) {
    this.seen = {
      board,
      status: 'up',
      earning: true,
      bootId: `b${board}-0`,
      firmware: { version: '1.0.0', trying: false },
      visor: { version, running: true },
    };
  }
  private report(stage: NonNullable<NonNullable<BoardSeen['visor']>['update']>['stage'], reason?: string) {
    const j = this.job!;
    this.seen = {
      ...this.seen,
      visor: {
        ...this.seen.visor!,
        update: { order: j.order, version: j.version, stage, ...(reason ? { reason } : {}) },
      },
    };
  }
  order(r: Rollout, now: number): void {
    // The same order again (its acknowledgement lost) changes nothing.
    if (this.job?.order === r.id || this.seen.visor?.update?.order === r.id) return;
    if (this.fault === 'silent') return;
    this.job = { order: r.id, version: r.version, stage: 'installing', at: now + INSTALL_MS };
    if (this.fault === 'other-arch') return this.report('refused', 'skywire for arm64; this board is arm');
    this.report('installing');
  }
  advance(now: number): void {
    const j = this.job;
    if (!j || now < j.at) return;
    if (j.stage === 'installing') {
      if (this.fault === 'reboots') {
        // A new boot: the update under way is gone with the old one.
        this.job = null;
        const { version, running } = this.seen.visor!;
        this.seen = { ...this.seen, bootId: `${this.seen.bootId}-again`, visor: { version, running } };
        return;
      }
      // Swapped in: the visor restarts on the new binary, so it does not answer for a moment.
      this.job = { ...j, stage: 'restarting', at: now + RESTART_MS };
      this.seen = { ...this.seen, visor: { ...this.seen.visor!, version: null, running: false } };
      this.report('installed');
      return;
    }
    if (j.stage === 'restarting') {
      this.job = { ...j, stage: 'judging', at: now + JUDGE_MS };
      this.seen = { ...this.seen, visor: { ...this.seen.visor!, version: j.version, running: true } };
      return;
    }
    // The board's verdict: kept, or back on its previous binary by itself.
    if (this.fault === 'falls-back') {
      this.seen = { ...this.seen, visor: { ...this.seen.visor!, version: 'v1.3.28', running: true } };
      this.report('rolled-back', 'the new visor answered only 3 s of the 30 s needed within 180 s');
    } else this.report('committed');
    this.job = null;
  }
}

class FakeBox {
  now = 5_000_000;
  readonly boards = new Map<number, FakeBoard>();
  readonly log: RolloutAction[] = [];
  /** Visors not running at the same moment, at worst. */
  worstDown = 0;
  constructor(n: number, version = 'v1.3.28') {
    for (let b = 1; b <= n; b++) this.boards.set(b, new FakeBoard(b, version));
  }
  seen(): Map<number, BoardSeen> {
    return new Map([...this.boards].map(([n, b]) => [n, b.seen]));
  }
  perform(r: Rollout, actions: RolloutAction[]): void {
    for (const a of actions) {
      this.log.push(a);
      if (a.kind === 'order') this.boards.get(a.board)!.order(r, this.now);
    }
  }
  advance(ms: number): void {
    this.now += ms;
    for (const b of this.boards.values()) b.advance(this.now);
    const down = [...this.boards.values()].filter((b) => !b.seen.visor?.running).length;
    this.worstDown = Math.max(this.worstDown, down);
  }
  step(r: Rollout): Rollout {
    const step = stepRollout(r, this.seen(), this.now);
    this.perform(step.rollout, step.actions);
    return step.rollout;
  }
  run(r: Rollout, tickMs = 1000, maxMs = 3_600_000): Rollout {
    const end = this.now + maxMs;
    while (!r.result && this.now < end) {
      r = this.step(r);
      this.advance(tickMs);
    }
    return r;
  }
  events(name: string): number[] {
    return this.log.filter((a) => a.kind === 'log' && a.event === name).map((a) => a.board);
  }
  orders(): number[] {
    return this.log.filter((a) => a.kind === 'order').map((a) => a.board);
  }
}

function start(box: FakeBox, version = 'v1.3.29'): Rollout {
  return planRollout([...box.seen().values()], {
    id: 'a1b2c3d4',
    kind: 'visor',
    version,
    bundle: { sha256: 'b'.repeat(64), bytes: 1000 },
    now: box.now,
    by: 'console:ttyS0',
  });
}

describe('box-wide visor rollout', () => {
  it('swaps every board visor one by one, the workers first by number and the manager last, with no reboot', () => {
    const box = new FakeBox(4);
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(box.orders()).toEqual([2, 3, 4, 1]);
    expect(box.events('visor-update-kept')).toEqual([2, 3, 4, 1]);
    expect(box.log.some((a) => a.kind === 'reboot' || a.kind === 'commit')).toBe(false);
    for (const b of box.boards.values())
      expect(b.seen.visor).toMatchObject({ version: 'v1.3.29', running: true });
    expect(box.worstDown).toBe(1);
    expect(rolloutLines(r, box.now)[0]).toBe('visor update to skywire v1.3.29: done');
    expect(rolloutPanelLine(r)).toBe('VISOR v1.3.29 OK');
    expect(box.log.find((a) => a.kind === 'log' && a.event === 'rollout-done')).toMatchObject({
      details: { kind: 'visor', version: 'v1.3.29', boards: [2, 3, 4, 1] },
    });
  });

  it('orders the next board only once the one before has kept its new visor', () => {
    const box = new FakeBox(3);
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    const story = box.log
      .filter((a) => a.kind === 'order' || (a.kind === 'log' && a.event.startsWith('visor-update-')))
      .map((a) => (a.kind === 'log' ? `${a.event}:${a.board}` : `${a.kind}:${a.board}`));
    expect(story).toEqual([
      'order:2',
      'visor-update-ordered:2',
      'visor-update-installed:2',
      'visor-update-kept:2',
      'order:3',
      'visor-update-ordered:3',
      'visor-update-installed:3',
      'visor-update-kept:3',
      'order:1',
      'visor-update-ordered:1',
      'visor-update-installed:1',
      'visor-update-kept:1',
    ]);
  });

  it('stops at the first board whose new visor does not stay up, names it and why, and orders no board after it', () => {
    const box = new FakeBox(4);
    box.boards.get(3)!.fault = 'falls-back';
    const r = box.run(start(box));
    expect(r.result).toEqual({
      kind: 'stopped',
      at: expect.any(Number),
      board: 3,
      reason:
        'fell back to its previous visor v1.3.28: the new visor answered only 3 s of the 30 s needed within 180 s',
    });
    expect(box.orders()).toEqual([2, 3]);
    expect(box.boards.get(2)!.seen.visor!.version).toBe('v1.3.29');
    for (const b of [3, 4, 1]) expect(box.boards.get(b)!.seen.visor!.version).toBe('v1.3.28');
    expect(box.events('rollout-stopped')).toEqual([3]);
    expect(rolloutLines(r, box.now)[0]).toMatch(
      /^visor update to skywire v1\.3\.29: stopped at board 3: fell back/,
    );
    expect(rolloutLines(r, box.now)).toContain('  board 2: done from v1.3.28');
    expect(rolloutPanelLine(r)).toBe('VISOR STOP B3');
  });

  it('stops at a board that refuses the bundle for its architecture, the board untouched', () => {
    const box = new FakeBox(4);
    box.boards.get(2)!.fault = 'other-arch';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({
      kind: 'stopped',
      board: 2,
      reason: 'refused the bundle: skywire for arm64; this board is arm',
    });
    expect(box.orders()).toEqual([2]);
    expect(box.boards.get(2)!.seen.visor).toMatchObject({ version: 'v1.3.28', running: true });
  });

  it('stops when a board never takes up its order, after sending it again', () => {
    const box = new FakeBox(2);
    box.boards.get(2)!.fault = 'silent';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({
      board: 2,
      reason: 'did not take up the visor update order within 60 s',
    });
    expect(box.orders().length).toBeGreaterThan(1);
    expect(new Set(box.orders())).toEqual(new Set([2]));
  });

  it('stops when a board restarts in the middle of its visor update', () => {
    const box = new FakeBox(3);
    box.boards.get(2)!.fault = 'reboots';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({ board: 2 });
    expect(r.result?.kind === 'stopped' && r.result.reason).toMatch(/^restarted during its visor update/);
    expect(box.orders()).toEqual([2]);
  });

  it('stops when no verdict comes within the limit after the swap', () => {
    const box = new FakeBox(2);
    let r = start(box);
    // The board swaps and then says nothing more: its report stays at `installed`.
    for (let i = 0; i < 200 && r.boards[0]!.phase !== 'installed'; i++) {
      r = box.step(r);
      box.advance(1000);
    }
    expect(r.boards[0]!.phase).toBe('installed');
    const since = r.boards[0]!.since;
    let step = stepRollout(r, box.seen(), since + 599_000);
    expect(step.rollout.result).toBeUndefined();
    step = stepRollout(r, box.seen(), since + 600_000);
    expect(step.rollout.result).toMatchObject({
      board: 2,
      reason: 'no verdict on its new visor within 600 s of the swap',
    });
  });

  it('never swaps a visor while another board that was up has its visor down, and goes on once it is back', () => {
    const box = new FakeBox(4);
    const b4 = box.boards.get(4)!;
    b4.seen = { ...b4.seen, visor: { version: null, running: false } };
    // Board 4's visor went down after the start: the start saw it running.
    const planned = planRollout(
      [...box.seen().values()].map((s) =>
        s.board === 4 ? { ...s, visor: { version: 'v1.3.28', running: true } } : s,
      ),
      {
        id: 'a1b2c3d4',
        kind: 'visor',
        version: 'v1.3.29',
        bundle: { sha256: 'b'.repeat(64), bytes: 1 },
        now: box.now,
        by: 't',
      },
    );
    let r = planned;
    for (let i = 0; i < 100; i++) {
      const step = stepRollout(r, box.seen(), box.now);
      r = step.rollout;
      expect(step.actions.filter((a) => a.kind === 'order')).toEqual([]);
      box.now += 1000;
    }
    expect(r.waiting).toBe('board 2 waits to swap its visor until board 4 (visor not running) is up');
    expect(rolloutLines(r, box.now)).toContain(
      '  board 2 waits to swap its visor until board 4 (visor not running) is up',
    );
    b4.seen = { ...b4.seen, visor: { version: 'v1.3.28', running: true } };
    r = box.run(r);
    expect(r.result?.kind).toBe('done');
    expect(box.orders()).toEqual([2, 3, 4, 1]);
  });

  it('leaves out boards not up at the start, and boards whose visor was not running, and names them', () => {
    const box = new FakeBox(4);
    box.boards.get(3)!.seen = { board: 3, status: 'off', earning: false };
    const b4 = box.boards.get(4)!;
    b4.seen = { ...b4.seen, visor: { version: null, running: false } };
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(r.boards.find((b) => b.board === 3)).toMatchObject({ phase: 'skipped', note: 'off at the start' });
    expect(r.boards.find((b) => b.board === 4)).toMatchObject({
      phase: 'skipped',
      note: 'its visor was not running at the start',
    });
    expect(box.orders()).toEqual([2, 1]);
    expect(r.upAtStart).toEqual([2, 1]);
  });

  it('marks a board already running the version as done without touching its visor', () => {
    const box = new FakeBox(3);
    box.boards.get(2)!.seen.visor = { version: 'v1.3.29', running: true };
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(box.events('visor-update-skipped')).toEqual([2]);
    expect(box.orders()).toEqual([3, 1]);
  });

  it('carries on from its saved state after a manager restart without swapping done boards again', () => {
    const box = new FakeBox(4);
    let r = start(box);
    while (r.boards.find((b) => b.board === 3)!.phase !== 'installed') {
      r = box.step(r);
      box.advance(1000);
    }
    // Saved as JSON and read back through the schema by a new manager, which starts a minute later.
    const saved = rolloutSchema.parse(JSON.parse(JSON.stringify(r)));
    expect(saved).toEqual(r);
    box.log.length = 0;
    box.advance(60_000);
    const done = box.run(saved);
    expect(done.result?.kind).toBe('done');
    expect(box.orders()).toEqual([4, 1]);
    expect(box.events('visor-update-kept')).toEqual([3, 4, 1]);
  });

  it('refuses a version older than a board runs, a version that is not one, and a box with no visor running', () => {
    const box = new FakeBox(3, 'v1.3.30');
    expect(() => start(box, 'v1.3.29')).toThrow(
      new RolloutRefused("skywire v1.3.29 is older than board 2's v1.3.30"),
    );
    expect(() => start(box, 'latest')).toThrow(new RolloutRefused('not a skywire version: latest'));
    for (const b of box.boards.values()) b.seen = { ...b.seen, visor: { version: null, running: false } };
    expect(() => start(box)).toThrow('no board is up with its visor running: nothing to update');
  });

  it('stops on the owner word, and its events say it was a visor rollout', () => {
    const box = new FakeBox(2);
    const r = stopRollout(start(box), box.now, 'console:ttyS0');
    expect(r.rollout.result).toMatchObject({ kind: 'stopped', board: 2, reason: 'stopped by console:ttyS0' });
    expect(r.actions).toEqual([
      {
        kind: 'log',
        board: 2,
        event: 'rollout-stopped',
        details: { kind: 'visor', version: 'v1.3.29', reason: 'stopped by console:ttyS0' },
      },
    ]);
  });
});

describe('saved rollouts', () => {
  it('reads a firmware rollout saved before visor rollouts existed as a firmware one', () => {
    const old = {
      id: 'a1b2c3d4',
      version: '1.1.0',
      bundle: { sha256: 'a'.repeat(64), bytes: 10 },
      startedAt: 1,
      by: 'x',
      upAtStart: [2],
      boards: [{ board: 2, phase: 'waiting', since: 1 }],
    };
    expect(rolloutSchema.parse(old).kind).toBe('firmware');
  });

  it('refuses a saved rollout whose version is not one of its kind', () => {
    const base = {
      id: 'a1b2c3d4',
      bundle: { sha256: 'a'.repeat(64), bytes: 10 },
      startedAt: 1,
      by: 'x',
      upAtStart: [],
      boards: [],
    };
    expect(rolloutSchema.safeParse({ ...base, kind: 'visor', version: 'v1.3.29' }).success).toBe(true);
    expect(rolloutSchema.safeParse({ ...base, kind: 'visor', version: 'soon' }).success).toBe(false);
    expect(rolloutSchema.safeParse({ ...base, kind: 'firmware', version: 'v1.3.29' }).success).toBe(false);
  });
});
