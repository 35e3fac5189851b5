import { describe, expect, it } from 'vitest';
import type { Peer } from '../../../firmware/protocol/datagrams.js';
import type { JoinClaim } from '../../../firmware/protocol/join.js';
import {
  boardHeard,
  INITIAL_JOIN_STATE,
  joinAlert,
  judgeClaim,
  openWindow,
  tickWindows,
  type JoinAction,
  type JoinPolicy,
  type JoinState,
} from '../../../firmware/supervisor/join-window.js';

// The clock is a number passed in: every timing below is exact, whatever the machine's load.
const POLICY: JoinPolicy = { boards: 4, windowMs: 60_000, regrantMs: 30_000, alertMs: 600_000 };
const BOARD_KEY = 'a'.repeat(64);
const OTHER_KEY = 'b'.repeat(64);
const board3: Peer = { address: '192.168.0.4', port: 7701 };
const intruder: Peer = { address: '192.168.0.77', port: 40000 };

const claim = (publicKey: string, board = 3): JoinClaim => ({
  type: 'join',
  board,
  boot_id: '0123456789abcdef',
  public_key: publicKey,
});

const kinds = (actions: JoinAction[]) => actions.map((a) => a.kind);
const answerOf = (actions: JoinAction[]) => {
  const a = actions.find((x) => x.kind === 'answer');
  return a?.kind === 'answer' ? a.message : undefined;
};

/** Board 3 switched on by the manager at t = 1000. */
const opened = (): JoinState => openWindow(INITIAL_JOIN_STATE, 3, 1000, POLICY);

describe('join window decision', () => {
  it('notes the first claim in an open window and answers only when the window closes', () => {
    const first = judgeClaim(opened(), claim(BOARD_KEY), board3, 20_000, POLICY);
    expect(answerOf(first.actions)).toEqual({
      type: 'join-pending',
      board: 3,
      public_key: BOARD_KEY,
      closes_in_ms: 41_000,
    });
    expect(kinds(first.actions)).toEqual(['answer', 'log']);
    // Nothing is handed over while the window is open, however often the board asks.
    const again = judgeClaim(first.state, claim(BOARD_KEY), board3, 40_000, POLICY);
    expect(kinds(again.actions)).toEqual(['answer']);
    expect(tickWindows(again.state, 60_999, POLICY).actions).toEqual([]);
    const closed = tickWindows(again.state, 61_000, POLICY);
    expect(closed.actions[0]).toEqual({
      kind: 'grant',
      board: 3,
      claimant: { publicKey: BOARD_KEY, bootId: '0123456789abcdef', from: board3, at: 20_000 },
    });
    expect(closed.actions[1]).toMatchObject({ kind: 'log', event: 'joined' });
  });

  it('hands the same grant again to the granted claimant whose answer was lost, and nothing to anyone else', () => {
    let s = judgeClaim(opened(), claim(BOARD_KEY), board3, 5000, POLICY).state;
    s = tickWindows(s, 61_000, POLICY).state;
    const lost = judgeClaim(s, claim(BOARD_KEY), board3, 62_000, POLICY);
    expect(lost.actions).toEqual([{ kind: 'regrant', board: 3, to: board3 }]);
    const late = judgeClaim(s, claim(OTHER_KEY), intruder, 62_000, POLICY);
    expect(answerOf(late.actions)).toMatchObject({
      type: 'join-refused',
      reason: 'board 3 has joined already',
    });
    expect(kinds(late.actions)).toEqual(['answer', 'log', 'alert']);
  });

  it('spends the window when a second claimant appears: nobody gets the key, the owner is alerted', () => {
    let s = judgeClaim(opened(), claim(OTHER_KEY), intruder, 2000, POLICY).state;
    const race = judgeClaim(s, claim(BOARD_KEY), board3, 30_000, POLICY);
    s = race.state;
    expect(answerOf(race.actions)).toMatchObject({ type: 'join-refused' });
    const alert = race.actions.find((a) => a.kind === 'alert');
    expect(alert).toMatchObject({
      board: 3,
      message: expect.stringContaining('192.168.0.77:40000, 192.168.0.4:7701') as unknown,
    });
    expect(race.actions).toContainEqual({
      kind: 'log',
      board: 3,
      event: 'join-contested',
      details: { from: ['192.168.0.77:40000', '192.168.0.4:7701'] },
    });
    // Both keep asking: both are refused, and the close grants nothing.
    for (const [key, from] of [
      [BOARD_KEY, board3],
      [OTHER_KEY, intruder],
    ] as const) {
      const again = judgeClaim(s, claim(key), from, 40_000, POLICY);
      expect(answerOf(again.actions)).toMatchObject({
        type: 'join-refused',
        reason: expect.stringMatching(/^slot 3 was claimed twice/) as unknown,
      });
    }
    const closed = tickWindows(s, 61_000, POLICY);
    expect(closed.actions).toEqual([]);
    expect(closed.state.windows.has(3)).toBe(false);
    expect(joinAlert(closed.state, 3, 61_000)).toBe('2 claims for board 3');
  });

  it('refuses a claim outside any window, and alerts the owner once until a window opens', () => {
    const first = judgeClaim(INITIAL_JOIN_STATE, claim(BOARD_KEY), board3, 1000, POLICY);
    expect(answerOf(first.actions)).toMatchObject({
      type: 'join-refused',
      reason: expect.stringContaining('no join window is open for slot 3') as unknown,
    });
    expect(kinds(first.actions)).toEqual(['answer', 'log', 'alert']);
    const second = judgeClaim(first.state, claim(OTHER_KEY), intruder, 2000, POLICY);
    expect(kinds(second.actions)).toEqual(['answer']);
    // A window that has run out is no window: nothing joins after it.
    const late = judgeClaim(opened(), claim(BOARD_KEY), board3, 61_000, POLICY);
    expect(answerOf(late.actions)).toMatchObject({ type: 'join-refused' });
    expect(tickWindows(late.state, 61_001, POLICY).actions).toEqual([]);
  });

  it('refuses a replayed claim in a later window, so a recording cannot take a slot', () => {
    let s = judgeClaim(opened(), claim(BOARD_KEY), board3, 5000, POLICY).state;
    s = tickWindows(s, 61_000, POLICY).state;
    s = tickWindows(s, 91_000, POLICY).state; // the regrant time is over: the window is forgotten
    s = openWindow(s, 3, 200_000, POLICY);
    const replay = judgeClaim(s, claim(BOARD_KEY), intruder, 201_000, POLICY);
    expect(answerOf(replay.actions)).toMatchObject({
      type: 'join-refused',
      reason: expect.stringMatching(/^replayed join/) as unknown,
    });
    // The replay took nothing: the window is still open for the board's fresh claim.
    expect(replay.state).toBe(s);
    const fresh = judgeClaim(replay.state, claim(OTHER_KEY), board3, 230_000, POLICY);
    expect(kinds(fresh.actions)).toEqual(['answer', 'log']);
    expect(kinds(tickWindows(fresh.state, 260_000, POLICY).actions)).toEqual(['grant', 'log']);
  });

  it('closes the window of a board heard with its own key, and tells the owner of a claim made meanwhile', () => {
    const quiet = boardHeard(opened(), 3, 30_000, POLICY);
    expect(quiet.actions).toEqual([]);
    expect(
      tickWindows(judgeClaim(quiet.state, claim(OTHER_KEY), intruder, 31_000, POLICY).state, 61_000, POLICY)
        .actions,
    ).toEqual([]);

    const claimed = judgeClaim(opened(), claim(OTHER_KEY), intruder, 10_000, POLICY).state;
    const heard = boardHeard(claimed, 3, 30_000, POLICY);
    expect(kinds(heard.actions)).toEqual(['log', 'alert']);
    expect(tickWindows(heard.state, 61_000, POLICY).actions).toEqual([]);
  });

  it('opens no window for the manager or a slot outside the box, and refuses claims for them', () => {
    expect(openWindow(INITIAL_JOIN_STATE, 1, 0, POLICY)).toBe(INITIAL_JOIN_STATE);
    expect(openWindow(INITIAL_JOIN_STATE, 5, 0, POLICY)).toBe(INITIAL_JOIN_STATE);
    const manager = judgeClaim(INITIAL_JOIN_STATE, claim(BOARD_KEY, 1), intruder, 0, POLICY);
    expect(answerOf(manager.actions)).toMatchObject({ reason: 'slot 1 is the manager; it never joins' });
    const outside = judgeClaim(INITIAL_JOIN_STATE, claim(BOARD_KEY, 9), intruder, 0, POLICY);
    expect(answerOf(outside.actions)).toMatchObject({ reason: 'slot 9 is not in this box (2 to 4)' });
    expect(outside.state).toBe(INITIAL_JOIN_STATE);
  });

  it('a new power-on replaces a spent window, so the owner can try again', () => {
    let s = judgeClaim(opened(), claim(OTHER_KEY), intruder, 2000, POLICY).state;
    s = judgeClaim(s, claim(BOARD_KEY), board3, 3000, POLICY).state;
    s = openWindow(s, 3, 10_000, POLICY); // the owner cycles board 3
    const fresh = judgeClaim(s, claim('c'.repeat(64)), board3, 20_000, POLICY);
    expect(kinds(fresh.actions)).toEqual(['answer', 'log']);
    expect(kinds(tickWindows(fresh.state, 70_000, POLICY).actions)).toEqual(['grant', 'log']);
  });

  it('takes the panel alert down after its time', () => {
    const s = judgeClaim(INITIAL_JOIN_STATE, claim(BOARD_KEY), board3, 1000, POLICY).state;
    expect(joinAlert(s, 3, 1000)).toBe('board 3 join refused');
    const later = tickWindows(s, 601_000, POLICY).state;
    expect(joinAlert(later, 3, 601_000)).toBeUndefined();
    expect(later.alerts.size).toBe(0);
  });
});
