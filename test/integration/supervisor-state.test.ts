import { mkdtemp, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { openEnvelope, seal } from '../../firmware/auth/envelope.js';
import { BoxKeys, deriveBoardKey } from '../../firmware/auth/keys.js';
import { decodeManagerMessage, encodeMessage } from '../../firmware/protocol/messages.js';
import { DEFAULT_POLICY, type Policy } from '../../firmware/supervisor/board-state.js';
import { JsonLinesEventLog } from '../../firmware/supervisor/event-log.js';
import { loadState, saveState, STATE_VERSION } from '../../firmware/supervisor/state-store.js';
import { Supervisor, type BoardLines } from '../../firmware/supervisor/supervisor.js';
import { FakeDatagrams } from '../lib/fake-datagrams.js';

const secret = Buffer.alloc(32, 0x11);
const policy: Policy = { ...DEFAULT_POLICY, bootTimeoutMs: 10_000, powerOffMs: 1000, restartCap: 1 };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A 4-board box on an emulated chip: power at offset 2b, reset (active-low) at 2b + 1. */
function box() {
  const chip = new EmulatedGpioChip();
  for (let b = 2; b <= 4; b++) chip.drive(2 * b + 1, 1);
  const lines = new Map<number, BoardLines>();
  for (let b = 2; b <= 4; b++) {
    lines.set(b, {
      power: chip.request({ chip: chip.label, offset: 2 * b }),
      reset: chip.request({ chip: chip.label, offset: 2 * b + 1, activeLow: true }),
    });
  }
  return { chip, lines };
}

async function supervisorOn(lines: Map<number, BoardLines>, stateFile: string, events: string[] = []) {
  const net = new FakeDatagrams();
  const sup = new Supervisor({
    boards: 4,
    lines,
    listen: { host: '127.0.0.1', port: 0 },
    policy,
    powerOnGapMs: 100,
    keyFor: new BoxKeys(secret, 4).keyFor,
    stateFile,
    datagrams: () => Promise.resolve(net),
    events: (e) => events.push(`${e.board}:${e.event}`),
  });
  await sup.start();
  return { sup, net };
}

function beat(net: FakeDatagrams, board: number, boot: string, seq: number): void {
  const body = encodeMessage({
    type: 'heartbeat',
    board,
    boot_id: boot,
    seq,
    time_ms: Date.now(),
    uptime_s: seq,
    health: { ok: true, failing: [] },
  });
  net.deliver(seal(deriveBoardKey(secret, board), board, body));
}

describe('supervisor state on disk', () => {
  it('keeps a quarantine and the boot ids across its own restart, touching no line of a running board', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-state-'));
    const file = join(dir, 'state.json');
    const { chip, lines } = box();
    const events: string[] = [];
    const first = await supervisorOn(lines, file, events);
    await vi.advanceTimersByTimeAsync(500);
    for (const b of [2, 3, 4]) beat(first.net, b, `b${b}000000`, 0);
    // Board 3 goes silent twice: restarted once (the cap is 1), quarantined (and switched off) the second time.
    for (let i = 1; i <= 60; i++) {
      await vi.advanceTimersByTimeAsync(500);
      beat(first.net, 2, 'b2000000', i);
      beat(first.net, 4, 'b4000000', i);
      if (i === 20) beat(first.net, 3, 'b3111111', 0);
    }
    expect(first.sup.state(3)!.status).toBe('quarantined');
    expect(events.filter((e) => e.startsWith('3:'))).toEqual(
      expect.arrayContaining(['3:failed', '3:restart', '3:recovered', '3:quarantined', '3:alert']),
    );
    await first.sup.stop();

    const before = chip.history.length;
    const second = await supervisorOn(lines, file);
    // Boards 2 and 4 carry on with their boots: the new supervisor hears them within a heartbeat timeout.
    for (let i = 61; i <= 70; i++) {
      beat(second.net, 2, 'b2000000', i);
      beat(second.net, 4, 'b4000000', i);
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(second.sup.view().boards.map((b) => b.status)).toEqual(['booting', 'up', 'quarantined', 'up']);
    // Nothing moved: boards 2 and 4 kept running, board 3 stayed off in quarantine.
    expect(chip.history.length).toBe(before);
    expect(second.sup.state(3)!.status).toBe('quarantined');
    expect(second.sup.state(3)!.restarts).toHaveLength(1);
    // A heartbeat of board 3's first boot, replayed now, is refused: that boot is over.
    beat(second.net, 3, 'b3000000', 99);
    expect(second.sup.lastRejection).toBe('board 3: heartbeat of an earlier boot');
    // An operator release clears the quarantine and the count, and switches it back on.
    expect(await second.sup.operate(3, 'release', 'console:ttyS0')).toEqual({
      ok: true,
      message: 'board 3 released from quarantine; 1 restarts cleared',
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(chip.level(6)).toBe(1);
    expect(second.sup.state(3)).toMatchObject({ status: 'booting', restarts: [] });
    await second.sup.stop();
  });

  it('sets a truncated state file aside and starts from what the hardware shows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-state-'));
    const file = join(dir, 'state.json');
    await writeFile(file, '{"version":1,"saved_at":17000000,"boa');
    const { chip, lines } = box();
    chip.drive(4, 1); // board 2 powered and running; boards 3 and 4 off
    const warnings: string[] = [];
    const sup = new Supervisor({
      boards: 4,
      lines,
      listen: { host: '127.0.0.1', port: 0 },
      policy,
      powerOnGapMs: 100,
      keyFor: new BoxKeys(secret, 4).keyFor,
      stateFile: file,
      datagrams: () => Promise.resolve(new FakeDatagrams()),
      logger: { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    await sup.start();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/state\.json: not JSON; kept as .*state\.json\.corrupt-.*; starting from/);
    const names = await readdir(dir);
    const aside = names.find((n) => n.startsWith('state.json.corrupt-'))!;
    expect(await readFile(join(dir, aside), 'utf8')).toBe('{"version":1,"saved_at":17000000,"boa');
    expect(sup.view().boards.map((b) => b.status)).toEqual(['booting', 'booting', 'off', 'off']);
    await vi.advanceTimersByTimeAsync(300);
    await sup.stop();
    // A fresh, valid file replaced it.
    expect((await loadState(file)).state?.version).toBe(STATE_VERSION);
  });

  it('sets aside a state file of an unknown version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-state-'));
    const file = join(dir, 'state.json');
    await writeFile(file, JSON.stringify({ version: 99, saved_at: 0, boards: [] }));
    const result = await loadState(file, Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(result.state).toBeUndefined();
    expect(result.note).toBe(
      `${file}: version: Invalid input: expected 1; kept as ${file}.corrupt-2026-01-02T03-04-05-000Z; starting from what the hardware shows`,
    );
  });

  it("sweeps at start the temporary files killed writes of the state left, never a live writer's or another file's", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-state-'));
    const file = join(dir, 'state.json');
    await saveState(file, { version: 1, saved_at: 1, boards: [] });
    const aged = async (name: string, ageS: number) => {
      await writeFile(join(dir, name), '{"version":1,"sav');
      const at = Date.now() / 1000 - ageS;
      await utimes(join(dir, name), at, at);
    };
    await aged('state.json.tmp-4242-1700000000000', 120); // a killed writer's
    await aged('state.json.tmp-4243-1700000001000', 5); // possibly being written right now
    await aged('rewards-ledger.json.tmp-4242-1700000000000', 120); // another file's: its owner sweeps it
    await aged('state.json.tmp-notes', 120); // not a name the writer makes
    expect((await loadState(file)).state?.saved_at).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([
      'rewards-ledger.json.tmp-4242-1700000000000',
      'state.json',
      'state.json.tmp-4243-1700000001000',
      'state.json.tmp-notes',
    ]);
  });

  it('writes the state atomically: a complete file every time, no temporary left behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-state-'));
    const file = join(dir, 'state.json');
    for (let i = 0; i < 5; i++) await saveState(file, { version: 1, saved_at: i, boards: [] });
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, saved_at: 4, boards: [] });
  });
});

describe('event log', () => {
  it('rotates by size, keeping the newest files', async () => {
    vi.useRealTimers();
    const dir = await mkdtemp(join(tmpdir(), 'events-'));
    const path = join(dir, 'events.jsonl');
    const log = new JsonLinesEventLog(path, () => {}, { maxBytes: 4096, keep: 2 });
    for (let i = 0; i < 200; i++) log.sink({ t: i, board: 2, event: 'up', pad: 'x'.repeat(40) });
    await log.flush();
    expect((await readdir(dir)).sort()).toEqual(['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']);
    for (const name of ['events.jsonl', 'events.jsonl.1', 'events.jsonl.2']) {
      const text = await readFile(join(dir, name), 'utf8');
      expect(text.length).toBeLessThanOrEqual(4096);
      for (const line of text.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    const newest = (await readFile(path, 'utf8')).trim().split('\n');
    expect((JSON.parse(newest.at(-1)!) as { t: number }).t).toBe(199);
  });
});

describe('a board whose clock is wrong', () => {
  it('is heard by its boot and sequence, up without flapping, and its offset reported once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sup-skew-'));
    const { lines } = box();
    const events: string[] = [];
    const { sup, net } = await supervisorOn(lines, join(dir, 'state.json'), events);
    const key = deriveBoardKey(secret, 3);
    const skewedBeat = (seq: number) =>
      net.deliver(
        seal(
          key,
          3,
          encodeMessage({
            type: 'heartbeat',
            board: 3,
            boot_id: 'b3c10c40',
            seq,
            time_ms: Date.now() + 120_000,
            uptime_s: seq,
            health: { ok: true, failing: [] },
          }),
        ),
      );
    /** Answers every probe sent to board 3, as its agent would (the answer carries no clock). */
    const answerProbes = () => {
      for (const { message } of net.sent.splice(0)) {
        const opened = openEnvelope(message, new BoxKeys(secret, 4).keyFor);
        if (!opened.ok || opened.board !== 3) continue;
        const m = decodeManagerMessage(opened.body);
        if (m.ok && m.message.type === 'probe')
          net.deliver(
            seal(
              key,
              3,
              encodeMessage({ type: 'probe-answer', board: 3, boot_id: 'b3c10c40', nonce: m.message.nonce }),
            ),
          );
      }
    };
    await vi.advanceTimersByTimeAsync(500);
    const statuses: string[] = [];
    for (let i = 0; i < 120; i++) {
      skewedBeat(i);
      answerProbes();
      beat(net, 2, 'b2000000', i);
      beat(net, 4, 'b4000000', i);
      await vi.advanceTimersByTimeAsync(1000);
      answerProbes();
      statuses.push(sup.state(3)!.status);
    }
    // Up from the first answered probe on, and never suspect again in two minutes.
    expect(statuses.slice(2).every((s) => s === 'up')).toBe(true);
    expect(events.filter((e) => e.startsWith('3:') && e !== '3:power-on')).toEqual(['3:clock-skew', '3:up']);
    expect(sup.recentEvents({ board: 3 }).find((e) => e.event === 'clock-skew')).toMatchObject({
      offset_ms: 120_000,
    });
    await sup.stop();
  });
});
