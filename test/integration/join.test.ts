// Zero-touch enrolment over real UDP on loopback: the supervisor and real agents, a racing claimant on a socket of
// its own. Windows are a second or two so that these tests stay short; the rules are timed exactly in
// test/unit/supervisor/join-window.test.ts with a fake clock.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { Agent } from '../../firmware/agent/agent.js';
import { enrolBoard, keepJoinedKey } from '../../firmware/auth/enrol.js';
import { newJoinKeyPair } from '../../firmware/auth/join-seal.js';
import { BoxKeys, deriveBoardKey, formatKey, generateBoxSecret } from '../../firmware/auth/keys.js';
import { defaultConfig } from '../../firmware/config/load.js';
import { bindUdp, type Datagrams, type Peer } from '../../firmware/protocol/datagrams.js';
import { decodeJoinAnswer, encodeJoin, type JoinAnswer } from '../../firmware/protocol/join.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import { DEFAULT_POLICY } from '../../firmware/supervisor/board-state.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { Supervisor, type BoardLines } from '../../firmware/supervisor/supervisor.js';
import { waitFor } from '../helpers/wait.js';

const WINDOW_MS = 1500;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Box {
  sup: Supervisor;
  secret: Buffer;
  events: SupervisorEvent[];
  manager: Peer;
}

/** A manager with boards 2-4 on emulated lines, all off: it switches them on at start, each opening a window. */
async function startManager(): Promise<Box> {
  const chip = new EmulatedGpioChip();
  const lines = new Map<number, BoardLines>();
  for (let b = 2; b <= 4; b++) lines.set(b, { power: chip.request({ chip: chip.label, offset: b }) });
  const secret = generateBoxSecret();
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor({
    boards: 4,
    lines,
    listen: { host: '127.0.0.1', port: 0 },
    policy: { ...DEFAULT_POLICY, heartbeatTimeoutMs: 5000, powerOffMs: 50 },
    powerOnGapMs: 0,
    keyFor: new BoxKeys(secret, 4).keyFor,
    events: (e) => events.push(e),
    join: {
      policy: { windowMs: WINDOW_MS, regrantMs: 5000, alertMs: 60_000 },
      attachLine: 'ssh-ed25519 AAAA skyminer-manager',
    },
  });
  await sup.start();
  cleanup.push(() => sup.stop());
  // The windows open as the lines go high, one tick of the loop after start.
  await waitFor('boards 2-4 switched on', () => [2, 3, 4].every((b) => chip.level(b) === 1));
  await new Promise((r) => setTimeout(r, 20));
  return { sup, secret, events, manager: { address: '127.0.0.1', port: sup.port } };
}

/** A fresh board's agent: no key, it joins and keeps what it got. */
function freshAgent(box: Box, board: number, kept: Map<number, Buffer>): Agent {
  const agent = new Agent({
    board,
    manager: { host: '127.0.0.1', port: box.manager.port },
    intervalMs: 100,
    datagrams: () => bindUdp(0, '127.0.0.1', () => {}),
    join: {
      retryMs: 100,
      keep: ({ key }) => {
        kept.set(board, key);
        return Promise.resolve();
      },
    },
  });
  cleanup.push(() => agent.stop());
  return agent;
}

/** A host on the LAN with a socket of its own, claiming slots and reading what it is told. */
async function claimant(): Promise<{
  net: Datagrams;
  answers: JoinAnswer[];
  claim: (to: Peer, board: number) => Buffer;
}> {
  const net = await bindUdp(0, '127.0.0.1', () => {});
  cleanup.push(() => net.close());
  const answers: JoinAnswer[] = [];
  net.onMessage((m) => {
    const d = decodeJoinAnswer(m);
    if (d.ok) answers.push(d.message);
  });
  const pair = newJoinKeyPair();
  return {
    net,
    answers,
    claim: (to, board) => {
      const datagram = encodeJoin({
        type: 'join',
        board,
        boot_id: 'feedfacecafe0001',
        public_key: pair.publicHex,
      });
      net.send(datagram, to);
      return datagram;
    },
  };
}

const named = (events: SupervisorEvent[], name: string, board: number) =>
  events.filter((e) => e.event === name && e.board === board);

describe('zero-touch enrolment over UDP', () => {
  it('a freshly flashed board joins in the window its power-on opened, and is up with its own key', async () => {
    const box = await startManager();
    const kept = new Map<number, Buffer>();
    const started = freshAgent(box, 2, kept).start();
    // Nothing is handed over before the window closes.
    await new Promise((r) => setTimeout(r, WINDOW_MS / 2));
    expect(kept.has(2)).toBe(false);
    await started;
    expect(kept.get(2)).toEqual(deriveBoardKey(box.secret, 2));
    await waitFor('board 2 up', () => box.sup.state(2)?.status === 'up');
    expect(named(box.events, 'joined', 2)).toHaveLength(1);
    expect(named(box.events, 'alert', 2)).toEqual([]);
  });

  it('refuses both claims and alerts the owner when someone races a board for its window; a cycle lets the board join', async () => {
    const box = await startManager();
    const intruder = await claimant();
    intruder.claim(box.manager, 3);
    const kept = new Map<number, Buffer>();
    const first = freshAgent(box, 3, kept);
    const firstStart = first.start().catch((err: Error) => err.message);
    await waitFor('the contest', () => named(box.events, 'join-contested', 3).length === 1);
    const alert = named(box.events, 'alert', 3)[0]!;
    expect(alert.message).toMatch(
      /^two claimants for board 3's key \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+\); nothing was handed over/,
    );
    expect(box.sup.view().boards[2]!.joinAlert).toBe('2 claims for board 3');
    // The first claimant asking again is refused too.
    intruder.claim(box.manager, 3);
    await waitFor('the intruder refused', () => intruder.answers.length === 2);
    expect(intruder.answers.map((a) => a.type)).toEqual(['join-pending', 'join-refused']);
    expect(intruder.answers[1]).toMatchObject({
      reason: expect.stringMatching(/^slot 3 was claimed twice/) as unknown,
    });
    // The window closes and still nobody has the key.
    await new Promise((r) => setTimeout(r, WINDOW_MS + 300));
    expect(kept.has(3)).toBe(false);
    expect(intruder.answers.some((a) => a.type === 'join-grant')).toBe(false);
    expect(named(box.events, 'joined', 3)).toEqual([]);
    // What the alert tells the owner to do: cycle the board. It boots afresh (a new key pair) and joins alone.
    await first.stop();
    expect(await firstStart).toBe('board 3: stopped before joining');
    expect(await box.sup.operate(3, 'cycle', 'test')).toMatchObject({ ok: true });
    await waitFor('the power back on', () => named(box.events, 'operator', 3).length === 1, 2000);
    await new Promise((r) => setTimeout(r, 200));
    await freshAgent(box, 3, kept).start();
    expect(kept.get(3)).toEqual(deriveBoardKey(box.secret, 3));
    expect(named(box.events, 'joined', 3)).toHaveLength(1);
  });

  it('refuses a join outside any window, tells the claimant why and alerts the owner', async () => {
    const box = await startManager();
    await new Promise((r) => setTimeout(r, WINDOW_MS + 300));
    const late = await claimant();
    late.claim(box.manager, 4);
    await waitFor('the refusal', () => late.answers.length === 1);
    expect(late.answers[0]).toMatchObject({
      type: 'join-refused',
      reason:
        'no join window is open for slot 4: switch board 4 off and on from the console (cycle 4) to open one',
    });
    expect(named(box.events, 'alert', 4)[0]!.message).toMatch(
      /^board 4 asks to join from 127\.0\.0\.1:\d+ but no join window is open/,
    );
    expect(box.sup.rejected).toBeGreaterThan(0);
  });

  it('refuses a replayed claim in a later window: the recording gets nothing and the slot stays free', async () => {
    const box = await startManager();
    const board = await claimant();
    const recorded = board.claim(box.manager, 2);
    await waitFor('the grant', () => board.answers.some((a) => a.type === 'join-grant'), 5000);
    // The board is switched off and on: a new window. Someone replays the recorded claim into it.
    await box.sup.operate(2, 'cycle', 'test');
    await new Promise((r) => setTimeout(r, 300));
    const replayer = await claimant();
    replayer.net.send(recorded, box.manager);
    await waitFor('the refusal', () => replayer.answers.length === 1);
    expect(replayer.answers[0]).toMatchObject({
      type: 'join-refused',
      reason: expect.stringMatching(/^replayed join/) as unknown,
    });
    // The window is untouched: the board's fresh boot joins in it.
    const kept = new Map<number, Buffer>();
    await freshAgent(box, 2, kept).start();
    expect(kept.get(2)).toEqual(deriveBoardKey(box.secret, 2));
  });

  it('refuses a bad join datagram in one line and changes nothing', async () => {
    const box = await startManager();
    const raw = await bindUdp(0, '127.0.0.1', () => {});
    cleanup.push(() => raw.close());
    raw.send(Buffer.from('J{"type":"join","board":2}'), box.manager);
    await waitFor('the rejection', () => box.sup.rejected === 1);
    expect(box.sup.lastRejection).toMatch(/^join from 127\.0\.0\.1:\d+: join message boot_id: /);
    raw.send(
      encodeJoin({ type: 'join', board: 2, boot_id: 'abcdef0123', public_key: '00'.repeat(32) }),
      box.manager,
    );
    await waitFor('the second rejection', () => box.sup.rejected === 2);
    expect(box.sup.lastRejection).toMatch(/public key gives no shared secret/);
    // The window was not touched: a real board still joins in it.
    const kept = new Map<number, Buffer>();
    await freshAgent(box, 2, kept).start();
    expect(kept.has(2)).toBe(true);
  });

  it('a board enrolled from the box secret (a per-box image) needs no window and closes its own', async () => {
    const box = await startManager();
    const dir = await mkdtemp(join(tmpdir(), 'enrol-'));
    await writeFile(join(dir, 'box.secret'), formatKey(box.secret), { mode: 0o600 });
    const paths = { boardKey: join(dir, 'board.key'), boxSecret: join(dir, 'box.secret') };
    const enrolment = await enrolBoard(4, paths);
    const agent = new Agent({
      board: 4,
      manager: { host: '127.0.0.1', port: box.manager.port },
      intervalMs: 100,
      key: enrolment.key,
      datagrams: () => bindUdp(0, '127.0.0.1', () => {}),
    });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor('board 4 up', () => box.sup.state(4)?.status === 'up');
    // Its window is closed by its own heartbeat: a claim now is refused and the owner told.
    const late = await claimant();
    late.claim(box.manager, 4);
    await waitFor('the refusal', () => late.answers.length === 1);
    expect(late.answers[0]).toMatchObject({ reason: 'board 4 came back with its own key; no join needed' });
    expect(named(box.events, 'joined', 4)).toEqual([]);
  });

  it('keeps a joined key where the next start finds it, readable by root only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enrol-'));
    const paths = {
      boardKey: join(dir, 'state', 'board.key'),
      boxSecret: join(dir, 'box.secret'),
      authorizedKeys: join(dir, 'ssh', 'authorized_keys'),
    };
    const key = Buffer.alloc(32, 9);
    expect(await keepJoinedKey(paths, key, 'ssh-ed25519 AAAA skyminer-manager')).toEqual({});
    expect((await stat(paths.boardKey)).mode & 0o777).toBe(0o600);
    expect(await readFile(paths.authorizedKeys, 'utf8')).toBe('ssh-ed25519 AAAA skyminer-manager\n');
    expect(await enrolBoard(2, paths)).toMatchObject({ key, enrolled: false });
  });
});

describe('the simulator', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('enrols its workers by joining, and a board whose card was flashed afresh joins again when switched on', async () => {
    const events: SupervisorEvent[] = [];
    const config = defaultConfig({
      box: { boards: 4 },
      supervisor: {
        power_on_gap_ms: 20,
        heartbeat_interval_ms: 100,
        heartbeat_timeout_ms: 3000,
        power_off_ms: 100,
      },
    });
    sim = new Simulator({
      config,
      bootMs: 50,
      enrolment: 'join',
      joinWindowMs: 2000,
      events: (e) => events.push(e),
    });
    await sim.start();
    const s = sim;
    // Generous waits: a loaded two-core machine runs this beside other suites.
    await waitFor('all boards up', () => s.supervisor.view().boards.every((b) => b.status === 'up'), 20_000);
    expect(
      events
        .filter((e) => e.event === 'joined')
        .map((e) => e.board)
        .sort(),
    ).toEqual([2, 3, 4]);
    const before = s.keptKeys.get(3);
    // The owner switches board 3 off, puts in a card flashed afresh, and switches it on again.
    await s.supervisor.operate(3, 'off', 'test');
    await waitFor('board 3 off', () => s.emulatedState(3) === 'off');
    s.reflash(3);
    await s.supervisor.operate(3, 'on', 'test');
    await waitFor(
      'board 3 joined again',
      () => events.filter((e) => e.event === 'joined' && e.board === 3).length === 2,
      20_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; board 3's events: ${JSON.stringify(events.filter((e) => e.board === 3))}`,
      );
    });
    await waitFor('board 3 up again', () => s.supervisor.state(3)?.status === 'up', 20_000);
    expect(s.keptKeys.get(3)).toEqual(before);
    expect(events.filter((e) => e.event === 'alert')).toEqual([]);
  }, 60_000);
});
