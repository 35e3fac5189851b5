import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedGpioChip } from '../../../drivers/gpio/emulated.js';
import { seal } from '../../../firmware/auth/envelope.js';
import { BoxKeys, deriveBoardKey } from '../../../firmware/auth/keys.js';
import { encodeMessage, type Heartbeat } from '../../../firmware/protocol/messages.js';
import { DEFAULT_POLICY } from '../../../firmware/supervisor/board-state.js';
import { Supervisor, type BoardLines } from '../../../firmware/supervisor/supervisor.js';
import { heartbeatFigures } from '../../../firmware/telemetry/heartbeat-figures.js';
import { FakeDatagrams } from '../../lib/fake-datagrams.js';

const secret = Buffer.alloc(32, 0x33);
const keys = new BoxKeys(secret, 4);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

/** A deterministic generator, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

async function started(): Promise<{ sup: Supervisor; net: FakeDatagrams }> {
  const chip = new EmulatedGpioChip();
  const lines = new Map<number, BoardLines>();
  for (let b = 2; b <= 4; b++) {
    chip.drive(b, 1);
    lines.set(b, { power: chip.request({ chip: chip.label, offset: b }) });
  }
  const net = new FakeDatagrams();
  const sup = new Supervisor({
    boards: 4,
    lines,
    listen: { host: '127.0.0.1', port: 0 },
    policy: DEFAULT_POLICY,
    powerOnGapMs: 0,
    keyFor: keys.keyFor,
    datagrams: () => Promise.resolve(net),
  });
  await sup.start();
  return { sup, net };
}

const heartbeat = (seq: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({
  type: 'heartbeat',
  board: 3,
  boot_id: 'aaaaaaaaaaaaaaaa',
  seq,
  time_ms: Date.now(),
  uptime_s: seq,
  health: { ok: true, failing: [] },
  ...extra,
});
const sealed = (hb: Heartbeat, key = deriveBoardKey(secret, hb.board), board = hb.board): Buffer =>
  seal(key, board, encodeMessage(hb));

describe('supervisor under hostile datagrams', () => {
  it('takes a genuine heartbeat, as the control case', async () => {
    const { sup, net } = await started();
    net.deliver(sealed(heartbeat(0)));
    expect(sup.state(3)!.status).toBe('up');
    expect(sup.rejected).toBe(0);
    await sup.stop();
  });

  it('takes a heartbeat whose figures do not parse as a sign of life, dropping and counting only the figures', async () => {
    const { sup, net } = await started();
    const good = heartbeatFigures(undefined, [], null);
    const raw = (seq: number, telemetry: unknown): Buffer =>
      seal(deriveBoardKey(secret, 3), 3, Buffer.from(JSON.stringify({ ...heartbeat(seq), telemetry })));
    net.deliver(raw(0, { ...good, cpu_pct: 12.5 }));
    expect(sup.state(3)!.telemetry?.cpu_pct).toBe(12.5);
    for (const [seq, bad] of [
      [1, { ...good, cpu_pct: 'high' }],
      [2, { ...good, disks: [{ disk: 'sda', verdict: 'melting' }] }],
      [3, 'not an object'],
      [4, { ...good, disks: Array(9).fill(null) }],
    ] as const) {
      net.deliver(raw(seq, bad));
      expect(sup.state(3)!.status).toBe('up');
      expect(sup.state(3)!.telemetry).toBeUndefined();
    }
    expect(sup.view().boards[2]!.uptimeS).toBe(4);
    expect(sup.figuresDropped).toBe(4);
    expect(sup.lastFiguresError).toBe('board 3: telemetry.disks: Too big: expected array to have <=4 items');
    expect(sup.rejected).toBe(0);
    await sup.stop();
  });

  it('changes no board state for malformed, truncated, replayed, forged or stale heartbeats', async () => {
    const { sup, net } = await started();
    net.deliver(sealed(heartbeat(10)));
    const before = structuredClone([1, 2, 3, 4].map((b) => sup.state(b)));
    const random = rng(42);
    const genuine = sealed(heartbeat(11));
    const hostile: Buffer[] = [
      // Replays: the same datagram again, an older sequence, a boot we already left.
      sealed(heartbeat(10)),
      sealed(heartbeat(3)),
      // Forged: no key, another board's key, a key for the board it claims but a body for another board.
      sealed(heartbeat(12), Buffer.alloc(32, 9)),
      sealed(heartbeat(12), deriveBoardKey(secret, 2)),
      seal(deriveBoardKey(secret, 2), 2, encodeMessage(heartbeat(12))),
      // Stale or from the future, of a boot not proven yet: a recorded heartbeat replayed later. (A heartbeat of
      // the proven boot is judged by its sequence alone, so a board with a wrong clock is still heard.)
      sealed(heartbeat(12, { boot_id: 'bbbbbbbbbbbbbbbb', time_ms: Date.now() - 120_000 })),
      sealed(heartbeat(12, { boot_id: 'cccccccccccccccc', time_ms: Date.now() + 120_000 })),
      // Valid tag over a body that is not a heartbeat of ours.
      seal(deriveBoardKey(secret, 3), 3, Buffer.from('{"type":"heartbeat","board":3}')),
      seal(deriveBoardKey(secret, 3), 3, Buffer.from('not json at all')),
      seal(deriveBoardKey(secret, 3), 3, Buffer.from(JSON.stringify({ ...heartbeat(12), seq: -1 }))),
      seal(deriveBoardKey(secret, 3), 3, Buffer.from(JSON.stringify({ ...heartbeat(12), extra: 1 }))),
      // An answer to a probe never sent, an acknowledgement of a command never sent.
      seal(
        deriveBoardKey(secret, 3),
        3,
        encodeMessage({
          type: 'probe-answer',
          board: 3,
          boot_id: 'aaaaaaaaaaaaaaaa',
          nonce: 'ffffffffffffffff',
        }),
      ),
      seal(
        deriveBoardKey(secret, 3),
        3,
        encodeMessage({ type: 'command-ack', board: 3, boot_id: 'aaaaaaaaaaaaaaaa', seq: 1 }),
      ),
      Buffer.alloc(0),
      Buffer.alloc(70_000, 1),
    ];
    // Truncations and single-bit flips of a genuine datagram.
    for (let n = 0; n < genuine.length; n += 7) hostile.push(genuine.subarray(0, n));
    for (let i = 0; i < 200; i++) {
      const flipped = Buffer.from(genuine);
      flipped[Math.floor(random() * flipped.length)]! ^= 1 << Math.floor(random() * 8);
      hostile.push(flipped);
    }
    for (let i = 0; i < 200; i++) hostile.push(randomBytes(Math.floor(random() * 300)));

    for (const d of hostile) net.deliver(d);
    expect([1, 2, 3, 4].map((b) => sup.state(b))).toEqual(before);
    expect(sup.rejected).toBe(hostile.length);

    // Silence from here on: the hostile traffic kept nothing alive (board 3 goes suspect on time).
    await vi.advanceTimersByTimeAsync(DEFAULT_POLICY.heartbeatTimeoutMs + 100);
    expect(sup.state(3)!.status).toBe('suspect');
    await sup.stop();
  });

  it('cannot make a board look dead: forged traffic never moves an up board out of up', async () => {
    const { sup, net } = await started();
    for (let seq = 0; seq < 20; seq++) {
      net.deliver(sealed(heartbeat(seq)));
      net.deliver(
        sealed(heartbeat(seq + 1000, { health: { ok: false, failing: ['forged'] } }), Buffer.alloc(32, 1)),
      );
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(sup.state(3)!.status).toBe('up');
    expect(sup.state(3)!.health).toEqual({ ok: true, failing: [] });
    await sup.stop();
  });
});
