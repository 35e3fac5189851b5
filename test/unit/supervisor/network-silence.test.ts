import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../../firmware/protocol/messages.js';
import {
  decide,
  DEFAULT_POLICY,
  initialState,
  type BoardAction,
  type BoardState,
  type Policy,
} from '../../../firmware/supervisor/board-state.js';
import {
  INITIAL_NETWORK,
  isCorrelated,
  judgeNetwork,
  type NetworkMemory,
  type Uplink,
} from '../../../firmware/supervisor/network-silence.js';

const policy: Policy = {
  ...DEFAULT_POLICY,
  heartbeatTimeoutMs: 1500,
  probeTimeoutMs: 1200,
  probeIntervalMs: 200,
  softRebootAckMs: 1000,
  bootTimeoutMs: 60_000,
  restartCap: 3,
  restartWindowMs: 3_600_000,
  networkSettleMs: 3000,
  quarantine: 'off',
};

const UP: Uplink = { state: 'up', reason: 'via 192.168.0.1 on eth0' };
const DOWN: Uplink = { state: 'down', reason: 'eth0 link down' };

const hb = (board: number, seq: number, boot = `boot${board}`): Heartbeat => ({
  type: 'heartbeat',
  board,
  boot_id: boot,
  seq,
  time_ms: 0,
  uptime_s: seq,
  health: { ok: true, failing: [] },
});

/** A fake box: the supervisor's tick (network judgement, then every board's decision) on a fake clock. */
class Box {
  states = new Map<number, BoardState>();
  network: NetworkMemory = INITIAL_NETWORK;
  /** Every action, as `board:name`. */
  log: string[] = [];
  alerts: string[] = [];
  now = 0;
  private seq = new Map<number, number>();
  /** Boards whose heartbeats do not reach the manager. */
  cut = new Set<number>();
  /** Boards that are hung: silent whatever the network does. */
  hung = new Set<number>();
  uplink: Uplink = UP;

  constructor(boards = 8) {
    for (let b = 1; b <= boards; b++) {
      const lines = b === 1 ? { power: false, reset: false } : { power: true, reset: true };
      this.states.set(b, initialState(b, true, 0, lines));
    }
    this.beatAll();
  }

  private beatAll(): void {
    for (const b of this.states.keys()) {
      if (this.cut.has(b) || this.hung.has(b)) continue;
      const seq = (this.seq.get(b) ?? 0) + 1;
      this.seq.set(b, seq);
      const boot = `boot${b}-${this.boots(b)}`;
      this.feed(
        b,
        decide(this.states.get(b)!, { kind: 'heartbeat', at: this.now, heartbeat: hb(b, seq, boot) }, policy),
      );
    }
  }

  /** A reset or power cycle gives the board a new boot (and un-hangs it). */
  private bootCount = new Map<number, number>();
  private boots(b: number): number {
    return this.bootCount.get(b) ?? 0;
  }

  private feed(board: number, d: { state: BoardState; actions: BoardAction[] }): void {
    this.states.set(board, d.state);
    for (const a of d.actions) this.act(board, a);
  }

  private act(board: number, a: BoardAction): void {
    if (a.kind === 'log')
      this.log.push(`${board}:${a.event === 'restart' ? `restart-${String(a.details?.action)}` : a.event}`);
    else if (a.kind === 'alert') this.alerts.push(a.message);
    else if (a.kind === 'power') this.log.push(`${board}:power-${a.on ? 'on' : 'off'}`);
    else if (a.kind === 'reset-pulse') {
      this.log.push(`${board}:reset-pulse`);
      this.bootCount.set(board, this.boots(board) + 1);
      this.seq.set(board, 0);
      this.hung.delete(board);
    }
  }

  /** Runs the box for `ms`: ticks every 50 ms, heartbeats every second. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 50;
      if (this.now % 1000 === 0) this.beatAll();
      const judged = judgeNetwork(this.network, this.states.values(), this.uplink, this.now, policy);
      this.network = judged.memory;
      for (const a of judged.actions) this.act(0, a);
      for (const [b, s] of this.states)
        this.feed(
          b,
          decide(s, { kind: 'tick', at: this.now, ...(judged.hold ? { hold: judged.hold } : {}) }, policy),
        );
    }
  }

  status(): string[] {
    return [...this.states.values()].map((s) => s.status);
  }

  restarts(): number {
    return [...this.states.values()].reduce((n, s) => n + s.restarts.length, 0);
  }

  events(name: string): string[] {
    return this.log.filter((e) => e.endsWith(`:${name}`));
  }
}

const workers = [2, 3, 4, 5, 6, 7, 8];
const everyUp = Array(8).fill('up');

describe('correlated silence: the network, not the boards', () => {
  it('holds restarts through a switch reboot, raises one network alert, and restarts nothing', () => {
    const box = new Box();
    box.run(10_000);
    for (const b of workers) box.cut.add(b);
    box.uplink = DOWN;
    box.run(60_000);
    expect(box.status().slice(1)).toEqual(Array(7).fill('suspect'));
    box.cut.clear();
    box.uplink = UP;
    box.run(10_000);
    expect(box.status()).toEqual(everyUp);
    expect(box.log.filter((e) => /restart|reset|power|failed|quarantined/.test(e))).toEqual([]);
    expect(box.alerts).toHaveLength(1);
    expect(box.alerts[0]).toMatch(/^network: 7 of 7 boards silent together, uplink down \(eth0 link down\)/);
    expect(box.events('network-silence')).toEqual(['0:network-silence']);
    expect(box.events('network-back')).toEqual(['0:network-back']);
  });

  it('holds restarts on correlated silence alone, when the uplink cannot be read', () => {
    const box = new Box();
    box.uplink = { state: 'unknown', reason: 'not checked yet' };
    box.run(5000);
    for (const b of workers) box.cut.add(b);
    box.run(30_000);
    box.cut.clear();
    box.run(10_000);
    expect(box.status()).toEqual(everyUp);
    expect(box.restarts()).toBe(0);
  });

  it('rides out a flapping switch (three reboots in an hour): nothing restarted, nothing quarantined or switched off', () => {
    const box = new Box();
    box.run(5000);
    for (let i = 0; i < 3; i++) {
      for (const b of workers) box.cut.add(b);
      box.run(45_000);
      box.cut.clear();
      box.run(15 * 60_000);
    }
    expect(box.status()).toEqual(everyUp);
    expect(box.log.filter((e) => /restart|reset|power|quarantined/.test(e))).toEqual([]);
    expect(box.alerts).toHaveLength(3);
  });

  it('restarts a board that stays silent after the others are back, once the settle time has passed', () => {
    const box = new Box();
    box.run(5000);
    for (const b of workers) box.cut.add(b);
    box.hung.add(5);
    box.run(30_000);
    box.cut.clear();
    // Back at 35 s: the hold lasts the settle time (3 s), then the probe window (1.2 s), then the soft reboot.
    box.run(3000);
    expect(box.events('failed')).toEqual([]);
    box.run(5000);
    expect(box.events('failed')).toEqual(['5:failed']);
    box.run(10_000);
    expect(box.log.filter((e) => /restart|reset-pulse/.test(e))).toEqual([
      '5:restart-soft',
      '5:restart-reset',
      '5:reset-pulse',
    ]);
    expect(box.status()).toEqual(everyUp);
    // The board's own failure counts toward quarantine; the outage did not.
    expect(box.states.get(5)!.restarts).toHaveLength(1);
    expect(box.restarts()).toBe(1);
  });

  it('still restarts a single dead board at once during normal operation', () => {
    const box = new Box();
    box.run(5000);
    box.hung.add(4);
    box.run(5000);
    expect(box.alerts).toEqual([]);
    expect(box.log.filter((e) => e.startsWith('4:'))).toEqual(
      expect.arrayContaining(['4:suspect', '4:failed', '4:restart-soft', '4:restart-reset', '4:reset-pulse']),
    );
    expect(box.states.get(4)!.restarts).toHaveLength(1);
  });

  it('restarts two boards that die together while the others keep talking through the same switch', () => {
    const box = new Box();
    box.run(5000);
    box.hung.add(3);
    box.hung.add(6);
    box.run(6000);
    expect(box.alerts).toEqual([]);
    expect(box.events('reset-pulse').sort()).toEqual(['3:reset-pulse', '6:reset-pulse']);
  });

  it('treats two silent boards as the network while the uplink is down', () => {
    const box = new Box();
    box.run(5000);
    box.uplink = DOWN;
    box.cut.add(3);
    box.cut.add(6);
    box.run(20_000);
    expect(box.events('failed')).toEqual([]);
    expect(box.alerts).toHaveLength(1);
    box.cut.clear();
    box.uplink = UP;
    box.run(5000);
    expect(box.status()).toEqual(everyUp);
  });

  it('forgives a restart begun just before the silence was seen to be correlated, and abandons its soft reboot', () => {
    // Board 3 went silent first; its soft reboot is under way when the others fall silent too.
    const s0 = new Map<number, BoardState>();
    let state = initialState(3, true, 0);
    state = decide(state, { kind: 'heartbeat', at: 0, heartbeat: hb(3, 1) }, policy).state;
    state = decide(state, { kind: 'tick', at: 1600 }, policy).state; // suspect
    const failed = decide(state, { kind: 'tick', at: 2900 }, policy);
    expect(failed.state.status).toBe('restarting');
    expect(failed.state.restarts).toEqual([2900]);
    s0.set(3, failed.state);
    const held = decide(failed.state, { kind: 'tick', at: 3000, hold: { since: 0 } }, policy);
    expect(held.state.status).toBe('suspect');
    expect(held.state.restarts).toEqual([]);
    expect(held.actions.map((a) => (a.kind === 'log' ? a.event : a.kind))).toEqual([
      'restart-forgiven',
      'probe',
    ]);
    // The same boot heard again is simply up: no reset pulse follows the lost soft reboot.
    const back = decide(held.state, { kind: 'heartbeat', at: 5000, heartbeat: hb(3, 2) }, policy);
    expect(back.state.status).toBe('up');
  });

  it('never fails a suspect board while the hold lasts, however long', () => {
    let state = initialState(3, true, 0);
    state = decide(state, { kind: 'heartbeat', at: 0, heartbeat: hb(3, 1) }, policy).state;
    const kinds: string[] = [];
    for (let t = 50; t <= 600_000; t += 50) {
      const d = decide(state, { kind: 'tick', at: t, hold: { since: 0 } }, policy);
      state = d.state;
      kinds.push(...d.actions.map((a) => (a.kind === 'log' ? a.event : a.kind)));
    }
    expect(state.status).toBe('suspect');
    expect(new Set(kinds)).toEqual(new Set(['suspect', 'probe']));
  });
});

describe('correlated silence: the rule', () => {
  it('needs at least two silent boards', () => {
    expect(isCorrelated(1, 1, 'down')).toBe(false);
    expect(isCorrelated(7, 1, 'down')).toBe(false);
  });

  it('needs three quarters of the boards listened to, unless the uplink is down', () => {
    expect(isCorrelated(7, 5, 'up')).toBe(false);
    expect(isCorrelated(7, 6, 'up')).toBe(true);
    expect(isCorrelated(3, 2, 'unknown')).toBe(false);
    expect(isCorrelated(3, 3, 'unknown')).toBe(true);
    expect(isCorrelated(7, 2, 'down')).toBe(true);
  });

  it('does not count the manager, boards switched off or quarantined, or boards being restarted', () => {
    const at = 10_000;
    const states: BoardState[] = [
      { ...initialState(1, true, 0, { power: false, reset: false }), status: 'up', lastContactAt: 0 },
      { ...initialState(2, false, 0) },
      { ...initialState(3, true, 0), status: 'quarantined', lastContactAt: 0 },
      { ...initialState(4, true, 0), status: 'restarting', lastContactAt: 0 },
      { ...initialState(5, true, 0), status: 'up', lastContactAt: at },
      { ...initialState(6, true, 0), status: 'up', lastContactAt: 0 },
    ];
    const judged = judgeNetwork(INITIAL_NETWORK, states, UP, at, policy);
    expect(judged.hold).toBeUndefined();
    expect(judged.actions).toEqual([]);
  });
});
