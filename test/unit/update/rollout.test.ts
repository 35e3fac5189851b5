// The box-wide rollout decision on a fake clock, against a box of four boards modelled in plain data: each board
// takes an order, installs, reboots into its new slot and commits when acknowledged, or falls back as told.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ROLLOUT_LIMITS,
  planRollout,
  rolloutLines,
  rolloutPanelLine,
  RolloutRefused,
  stepRollout,
  stopRollout,
  type BoardSeen,
  type Rollout,
  type RolloutAction,
} from '../../../firmware/update/rollout.js';

type Fault = 'refuse' | 'no-boot' | 'never-installs' | 'silent-after-reboot';

/** A board as the manager would see it, and what it does with the rollout's orders. */
class FakeBoard {
  boots = 0;
  seen: BoardSeen;
  installedAt: number | null = null;
  downUntil: number | null = null;
  fault?: Fault;
  order?: string;
  constructor(
    readonly board: number,
    version: string,
  ) {
    this.seen = {
      board,
      status: 'up',
      earning: true,
      bootId: `b${board}-0`,
      firmware: { version, trying: false },
    };
  }
  newBoot(firmware: BoardSeen['firmware']): void {
    this.boots++;
    this.seen = {
      ...this.seen,
      status: 'up',
      earning: true,
      bootId: `b${this.board}-${this.boots}`,
      firmware,
    };
  }
}

class FakeBox {
  now = 1_000_000;
  readonly boards = new Map<number, FakeBoard>();
  readonly log: RolloutAction[] = [];
  /** Boards down for the update at the same moment, at worst. */
  worstDown = 0;
  constructor(n: number, version = '1.0.0') {
    for (let b = 1; b <= n; b++) this.boards.set(b, new FakeBoard(b, version));
  }
  seen(): Map<number, BoardSeen> {
    return new Map([...this.boards].map(([n, b]) => [n, b.seen]));
  }
  perform(r: Rollout, actions: RolloutAction[]): void {
    for (const a of actions) {
      this.log.push(a);
      const b = this.boards.get(a.board);
      if (!b) continue;
      const fw = b.seen.firmware!;
      if (a.kind === 'order') {
        if (b.fault === 'never-installs') continue;
        b.order = r.id;
        if (b.fault === 'refuse') {
          b.seen = {
            ...b.seen,
            firmware: {
              ...fw,
              update: { order: r.id, version: r.version, stage: 'refused', reason: 'wrongly signed' },
            },
          };
          continue;
        }
        b.seen = {
          ...b.seen,
          firmware: { ...fw, update: { order: r.id, version: r.version, stage: 'installing' } },
        };
        b.installedAt = this.now + 30_000;
      }
      if (a.kind === 'reboot') {
        expect(a.bootId).toBe(b.seen.bootId);
        b.seen = { ...b.seen, status: 'restarting', earning: false };
        b.downUntil = this.now + 20_000;
      }
      if (a.kind === 'commit') {
        expect(a.bootId).toBe(b.seen.bootId);
        b.seen = {
          ...b.seen,
          firmware: { ...fw, trying: false, update: { order: r.id, version: r.version, stage: 'committed' } },
        };
      }
    }
  }
  /** Time passes: installs finish, rebooted boards come back (on the new slot, or fallen back). */
  advance(ms: number, r: Rollout): void {
    this.now += ms;
    for (const b of this.boards.values()) {
      const fw = b.seen.firmware!;
      if (b.installedAt !== null && this.now >= b.installedAt) {
        b.installedAt = null;
        b.seen = {
          ...b.seen,
          firmware: { ...fw, update: { order: r.id, version: r.version, stage: 'installed' } },
        };
      }
      if (b.downUntil !== null && this.now >= b.downUntil) {
        b.downUntil = null;
        if (b.fault === 'silent-after-reboot') continue;
        if (b.fault === 'no-boot')
          b.newBoot({
            version: fw.version,
            trying: false,
            update: {
              order: r.id,
              version: r.version,
              stage: 'rolled-back',
              reason: `firmware ${r.version} (slot B) did not boot: back on the previous firmware`,
            },
          });
        else b.newBoot({ version: r.version, trying: true, update: fw.update! });
      }
    }
    const down = [...this.boards.values()].filter((b) => !b.seen.earning).length;
    this.worstDown = Math.max(this.worstDown, down);
  }
  /** Steps the rollout every `tickMs` until it has a result (or the time runs out). */
  run(r: Rollout, tickMs = 1000, maxMs = 3_600_000): Rollout {
    const end = this.now + maxMs;
    while (!r.result && this.now < end) {
      const step = stepRollout(r, this.seen(), this.now);
      r = step.rollout;
      this.perform(r, step.actions);
      this.advance(tickMs, r);
    }
    return r;
  }
  events(name: string): number[] {
    return this.log.filter((a) => a.kind === 'log' && a.event === name).map((a) => a.board);
  }
}

function start(box: FakeBox, version = '1.1.0'): Rollout {
  return planRollout([...box.seen().values()], {
    id: 'r1',
    version,
    bundle: { sha256: 'a'.repeat(64), bytes: 1000 },
    now: box.now,
    by: 'console:ttyS0',
  });
}

describe('box-wide rollout', () => {
  it('updates every board one by one, the workers first by number and the manager last', () => {
    const box = new FakeBox(4);
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(box.log.filter((a) => a.kind === 'reboot').map((a) => a.board)).toEqual([2, 3, 4, 1]);
    expect(box.events('update-committed')).toEqual([2, 3, 4, 1]);
    for (const b of box.boards.values())
      expect(b.seen.firmware).toMatchObject({ version: '1.1.0', trying: false });
    expect(box.worstDown).toBe(1);
    expect(rolloutLines(r, box.now)[0]).toBe('update to 1.1.0: done');
    expect(rolloutPanelLine(r)).toBe('UPDATE 1.1.0 OK');
  });

  it('orders the next board only once the previous one committed', () => {
    const box = new FakeBox(3);
    box.run(start(box));
    const kinds = box.log.filter((a) => a.kind !== 'log').map((a) => `${a.kind}:${a.board}`);
    expect(kinds).toEqual([
      'order:2',
      'reboot:2',
      'commit:2',
      'order:3',
      'reboot:3',
      'commit:3',
      'order:1',
      'reboot:1',
      'commit:1',
    ]);
  });

  it('stops at a board that rolled back, says which and why, and leaves the boards after it alone', () => {
    const box = new FakeBox(4);
    box.boards.get(3)!.fault = 'no-boot';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({ kind: 'stopped', board: 3 });
    expect(r.result?.kind === 'stopped' && r.result.reason).toMatch(
      /^rolled back: firmware 1\.1\.0 \(slot B\) did not boot/,
    );
    expect(box.boards.get(2)!.seen.firmware!.version).toBe('1.1.0');
    expect(box.boards.get(3)!.seen.firmware!.version).toBe('1.0.0');
    expect(box.boards.get(4)!.seen.firmware!.version).toBe('1.0.0');
    expect(box.log.some((a) => a.kind === 'order' && (a.board === 4 || a.board === 1))).toBe(false);
    expect(box.events('rollout-stopped')).toEqual([3]);
    expect(rolloutLines(r, box.now)[0]).toMatch(/^update to 1\.1\.0: stopped at board 3: rolled back/);
    expect(rolloutPanelLine(r)).toBe('UPDATE STOP B3');
  });

  it('stops at the first board that refuses the bundle, with the board untouched', () => {
    const box = new FakeBox(4);
    box.boards.get(2)!.fault = 'refuse';
    const r = box.run(start(box));
    expect(r.result).toEqual({
      kind: 'stopped',
      at: expect.any(Number),
      board: 2,
      reason: 'refused the bundle: wrongly signed',
    });
    expect(box.log.some((a) => a.kind === 'reboot')).toBe(false);
  });

  it('stops when a board taken down is not healthy within the limit', () => {
    const box = new FakeBox(4);
    box.boards.get(2)!.fault = 'silent-after-reboot';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({
      kind: 'stopped',
      board: 2,
      reason: 'not healthy within 600 s of its reboot',
    });
    expect(box.log.filter((a) => a.kind === 'reboot').map((a) => a.board)).toEqual([2]);
  });

  it('stops when a board never takes up its order, after sending it again', () => {
    const box = new FakeBox(2);
    box.boards.get(2)!.fault = 'never-installs';
    const r = box.run(start(box));
    expect(r.result).toMatchObject({
      kind: 'stopped',
      board: 2,
      reason: 'did not take up the update order within 60 s',
    });
    expect(box.log.filter((a) => a.kind === 'order').length).toBeGreaterThan(1);
  });

  it('never takes a board down while another board that was up is down', () => {
    const box = new FakeBox(4);
    let r = start(box);
    // Board 2 is installed; board 4 then goes silent on its own.
    for (let i = 0; i < 40 && r.boards[0]!.phase !== 'installed'; i++) {
      const step = stepRollout(r, box.seen(), box.now);
      r = step.rollout;
      box.perform(r, step.actions);
      box.advance(1000, r);
    }
    box.boards.get(4)!.seen = { ...box.boards.get(4)!.seen, status: 'suspect', earning: false };
    for (let i = 0; i < 100; i++) {
      const step = stepRollout(r, box.seen(), box.now);
      r = step.rollout;
      expect(step.actions.filter((a) => a.kind === 'reboot')).toEqual([]);
      box.now += 1000;
    }
    expect(r.waiting).toBe('board 2 waits to reboot until board 4 (suspect) is up');
    expect(rolloutLines(r, box.now)).toContain('  board 2 waits to reboot until board 4 (suspect) is up');
    box.boards.get(4)!.seen = { ...box.boards.get(4)!.seen, status: 'up', earning: true };
    r = box.run(r);
    expect(r.result?.kind).toBe('done');
  });

  it('carries on from its saved state after a manager restart without redoing done boards', () => {
    const box = new FakeBox(4);
    let r = start(box);
    while (r.boards.find((b) => b.board === 3)!.phase !== 'rebooting') {
      const step = stepRollout(r, box.seen(), box.now);
      r = step.rollout;
      box.perform(r, step.actions);
      box.advance(1000, r);
    }
    // Saved as JSON, read back by a new manager a minute later.
    const saved = JSON.parse(JSON.stringify(r)) as Rollout;
    box.log.length = 0;
    box.advance(60_000, saved);
    const done = box.run(saved);
    expect(done.result?.kind).toBe('done');
    expect(box.log.filter((a) => a.kind === 'order').map((a) => a.board)).toEqual([4, 1]);
    expect(box.events('update-committed')).toEqual([3, 4, 1]);
  });

  it('marks a board already running the version as done without taking it down', () => {
    const box = new FakeBox(3);
    box.boards.get(2)!.seen.firmware = { version: '1.1.0', trying: false };
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(box.events('update-skipped')).toEqual([2]);
    expect(box.log.filter((a) => a.kind === 'reboot').map((a) => a.board)).toEqual([3, 1]);
  });

  it('says which checks kept an up board out: up but failing them at the start', () => {
    const box = new FakeBox(4);
    box.boards.get(3)!.seen = { board: 3, status: 'up', earning: false, failing: ['event-loop', 'memory'] };
    const r = box.run(start(box));
    expect(r.boards.find((b) => b.board === 3)).toMatchObject({
      phase: 'skipped',
      note: 'up but failing event-loop, memory at the start',
    });
  });

  it('leaves out boards that were not up at the start and names them', () => {
    const box = new FakeBox(4);
    box.boards.get(3)!.seen = { board: 3, status: 'off', earning: false };
    const r = box.run(start(box));
    expect(r.result?.kind).toBe('done');
    expect(r.boards.find((b) => b.board === 3)).toMatchObject({ phase: 'skipped', note: 'off at the start' });
    expect(box.log.some((a) => a.kind !== 'log' && a.board === 3)).toBe(false);
    // Board 3 being off does not hold the others: it was not up at the start.
    expect(r.waiting).toBeUndefined();
  });

  it('refuses a version older than one a board runs, and a box with no board up', () => {
    const box = new FakeBox(2, '2.0.0');
    expect(() => start(box, '1.9.0')).toThrow(
      new RolloutRefused("firmware 1.9.0 is older than board 2's 2.0.0"),
    );
    for (const b of box.boards.values()) b.seen = { board: b.board, status: 'off', earning: false };
    expect(() => start(box, '2.1.0')).toThrow('no board is up: nothing to update');
  });

  it('stops on the owner word and names who stopped it', () => {
    const box = new FakeBox(2);
    const r = stopRollout(start(box), box.now, 'console:ttyS0');
    expect(r.rollout.result).toMatchObject({ kind: 'stopped', board: 2, reason: 'stopped by console:ttyS0' });
    expect(stepRollout(r.rollout, box.seen(), box.now + 1000).actions).toEqual([]);
  });

  it('gives the limits it was given', () => {
    const box = new FakeBox(2);
    box.boards.get(2)!.fault = 'silent-after-reboot';
    let r = start(box);
    const limits = { ...DEFAULT_ROLLOUT_LIMITS, healthyMs: 90_000 };
    while (!r.result) {
      const step = stepRollout(r, box.seen(), box.now, limits);
      r = step.rollout;
      box.perform(r, step.actions);
      box.advance(1000, r);
    }
    expect(r.result).toMatchObject({ board: 2, reason: 'not healthy within 90 s of its reboot' });
  });
});
