// A box-wide update in the simulator: real signed bundles, served by the manager over HTTP on loopback, ordered over
// the authenticated channel, installed by every board into its emulated spare slot with the install code, tried
// through the emulated boot script and committed once the manager acknowledges the trial boot.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../../images/bundle/make.js';
import { defaultConfig } from '../../firmware/config/load.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { RolloutLoop } from '../../firmware/supervisor/rollout-loop.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { keyId } from '../../firmware/update/keys.js';
import { readEnv } from '../../firmware/update/uboot-env.js';
import { waitFor } from '../helpers/wait.js';

const PROFILE = 'sim-arm64';
let key: KeyObject;
let work: string;
let sim: Simulator | undefined;

beforeAll(() => {
  key = generateKeyPairSync('ed25519').privateKey;
});

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  if (work) await rm(work, { recursive: true, force: true });
});

async function bundle(
  version: string,
  o: { profile?: string; key?: KeyObject; name?: string } = {},
): Promise<string> {
  const root = join(work, `root-${version}`);
  await writeFile(root, randomBytes(96 * 1024));
  const out = join(work, o.name ?? `${version}.bundle`);
  await makeBundle(
    {
      file: root,
      offset: 0,
      bytes: 96 * 1024,
      firmware: version,
      profile: o.profile ?? PROFILE,
      arch: 'aarch64',
    },
    o.key ?? key,
    out,
    0,
  );
  return out;
}

async function startSim(
  boards = 4,
  onEvent: (e: SupervisorEvent, s: Simulator) => void = () => {},
): Promise<{ sim: Simulator; events: SupervisorEvent[] }> {
  work = await mkdtemp(join(tmpdir(), 'skyminer-rollout-'));
  const events: SupervisorEvent[] = [];
  const config = defaultConfig({
    box: { boards },
    supervisor: { power_on_gap_ms: 20, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 600 },
  });
  const s = new Simulator({
    config,
    bootMs: 50,
    events: (e) => {
      events.push(e);
      onEvent(e, s);
    },
    stateFile: join(work, 'state.json'),
    update: {
      dir: join(work, 'box'),
      keys: new Map([[keyId(key), key]]),
      profile: PROFILE,
      version: '1.0.0',
      trialLimitMs: 8000,
      limits: { orderMs: 20_000, installMs: 30_000, healthyMs: 30_000, resendMs: 1000 },
      tickMs: 50,
    },
  });
  sim = s;
  await s.start();
  await waitFor('all boards up', () => s.supervisor.view().boards.every((b) => b.status === 'up'), 20_000);
  await waitFor(
    'firmware reported',
    () => s.supervisor.boardsSeen().every((b) => b.firmware?.version === '1.0.0'),
    20_000,
  );
  return { sim: s, events };
}

/** What a board's environment commits and which version it boots now. */
async function slotOf(
  s: Simulator,
  board: number,
): Promise<{ committed: string | undefined; running: string }> {
  const env = await readEnv(s.slots.get(board)!.env);
  return { committed: env.skyminer_slot, running: s.running.get(board)!.version };
}

const ended = (events: SupervisorEvent[]) =>
  events.some((e) => e.event === 'rollout-done' || e.event === 'rollout-stopped');
const named = (events: SupervisorEvent[], name: string) =>
  events.filter((e) => e.event === name).map((e) => e.board);

function rollout(s: Simulator): RolloutLoop {
  if (!s.rollout) throw new Error('the simulated manager runs no rollout');
  return s.rollout;
}

describe('box-wide update in the simulator', () => {
  it('rolls a good bundle out to every board in order, the manager last, each committed on its new slot', async () => {
    const { sim, events } = await startSim();
    const answer = await rollout(sim).begin(await bundle('1.1.0'), 'test');
    expect(answer).toEqual({
      ok: true,
      message: 'updating to 1.1.0, one board at a time: board 2, board 3, board 4, board 1',
    });
    await waitFor('the rollout to end', () => ended(events), 90_000);
    expect(rollout(sim).status()?.result?.kind).toBe('done');
    expect(named(events, 'update-reboot')).toEqual([2, 3, 4, 1]);
    expect(named(events, 'update-committed')).toEqual([2, 3, 4, 1]);
    for (const b of [1, 2, 3, 4]) expect(await slotOf(sim, b)).toEqual({ committed: 'B', running: '1.1.0' });
    // The reboots were expected: none counted as a restart, none escalated to the lines.
    expect(events.filter((e) => e.event === 'restart')).toEqual([]);
  }, 150_000);

  it("takes back a board's install silence when the owner stops the rollout in the middle of its install", async () => {
    const { sim } = await startSim();
    const silence = new Map<number, boolean>();
    const sup = sim.supervisor;
    const updateInstalling = sup.updateInstalling.bind(sup);
    sup.updateInstalling = (board, on) => {
      silence.set(board, on);
      updateInstalling(board, on);
    };
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('board 2 given the install silence', () => silence.get(2) === true, 20_000);
    expect(await rollout(sim).cancel('owner')).toEqual({ ok: true, message: 'update to 1.1.0 stopped' });
    expect([...silence].filter(([, on]) => on)).toEqual([]);
    expect(silence.get(2)).toBe(false);
  }, 60_000);

  it('stops at a board whose new slot does not boot, says where, and the others keep their slots', async () => {
    const { sim, events } = await startSim();
    sim.trialFaults.set(3, 'no-boot');
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 3 });
    expect(result.kind === 'stopped' && result.reason).toMatch(
      /^rolled back: firmware 1\.1\.0 \(slot B\) did not boot/,
    );
    expect(await slotOf(sim, 2)).toEqual({ committed: 'B', running: '1.1.0' });
    for (const b of [3, 4, 1]) expect(await slotOf(sim, b)).toEqual({ committed: 'A', running: '1.0.0' });
    expect(named(events, 'update-ordered')).toEqual([2, 3]);
    expect(events).toContainEqual(expect.objectContaining({ event: 'rollout-stopped', board: 3 }));
  }, 150_000);

  it('stops at a board that boots its new slot but never becomes healthy, once it fell back', async () => {
    const { sim, events } = await startSim();
    sim.trialFaults.set(2, 'unhealthy');
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 2 });
    expect(result.kind === 'stopped' && result.reason).toMatch(
      /did not become healthy \(no heartbeat acknowledged by the manager\)/,
    );
    for (const b of [2, 3, 4, 1]) expect(await slotOf(sim, b)).toEqual({ committed: 'A', running: '1.0.0' });
  }, 150_000);

  it('falls back when the new slot runs its agent but never reaches the manager, and says so', async () => {
    const { sim, events } = await startSim();
    sim.trialFaults.set(2, 'unreachable');
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 2 });
    expect(result.kind === 'stopped' && result.reason).toBe(
      'rolled back: firmware 1.1.0 (slot B) did not become healthy (no heartbeat acknowledged by the manager): back on the previous firmware',
    );
    for (const b of [2, 3, 4, 1]) expect(await slotOf(sim, b)).toEqual({ committed: 'A', running: '1.0.0' });
  }, 150_000);

  it('falls back on the manager whose new slot runs the supervisor but never gets a frame onto the panel', async () => {
    // The panel stops answering as the manager reboots into its new slot: its supervisor comes up, the panel never draws.
    const { sim, events } = await startSim(4, (e, s) => {
      if (e.event === 'update-reboot' && e.board === 1) s.bus.detach(0x3c);
    });
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 1 });
    expect(result.kind === 'stopped' && result.reason).toBe(
      'rolled back: firmware 1.1.0 (slot B) did not become healthy (panel not drawn): back on the previous firmware',
    );
    for (const b of [2, 3, 4]) expect(await slotOf(sim, b)).toEqual({ committed: 'B', running: '1.1.0' });
    expect(await slotOf(sim, 1)).toEqual({ committed: 'A', running: '1.0.0' });
  }, 150_000);

  it('carries on after a manager restart mid-rollout without redoing the boards already done', async () => {
    const { sim, events } = await startSim();
    await rollout(sim).begin(await bundle('1.1.0'), 'test');
    await waitFor('board 3 to be ordered', () => named(events, 'update-ordered').includes(3), 30_000);
    const before = rollout(sim);
    await sim.resetManager(100);
    await waitFor('a new manager', () => rollout(sim) !== before);
    await waitFor('the rollout to end', () => ended(events), 90_000);
    expect(rollout(sim).status()?.result).toMatchObject({ kind: 'done' });
    expect(named(events, 'update-ordered').filter((b) => b === 2)).toEqual([2]);
    expect(named(events, 'update-committed')).toEqual([2, 3, 4, 1]);
    for (const b of [1, 2, 3, 4]) expect(await slotOf(sim, b)).toEqual({ committed: 'B', running: '1.1.0' });
    const saved = JSON.parse(await readFile(join(work, 'box', 'manager', 'rollout.json'), 'utf8'));
    expect(saved.result.kind).toBe('done');
  }, 150_000);

  it('refuses a tampered, other-profile, older or foreign-signed bundle and changes no board', async () => {
    const { sim, events } = await startSim();
    const good = await bundle('1.1.0');
    const tampered = join(work, 'tampered.bundle');
    const bytes = await readFile(good);
    bytes[bytes.length - 10]! ^= 0xff;
    await writeFile(tampered, bytes);
    const cases: [string, RegExp][] = [
      [tampered, /^refused: payload damaged/],
      [
        await bundle('1.2.0', { profile: 'other-board', name: 'other.bundle' }),
        /^refused: for profile other-board; this board is sim-arm64/,
      ],
      [await bundle('0.9.0'), /^refused: firmware 0\.9\.0 is older than the running 1\.0\.0/],
      [
        await bundle('1.3.0', { key: generateKeyPairSync('ed25519').privateKey, name: 'foreign.bundle' }),
        /^refused: signed by key [0-9a-f]{16}, which this board does not trust/,
      ],
      [join(work, 'missing.bundle'), /missing\.bundle: .*ENOENT.*; no board was touched$/],
    ];
    for (const [file, message] of cases) {
      const answer = await rollout(sim).begin(file, 'test');
      expect(answer.ok).toBe(false);
      expect(answer.message).toMatch(message);
    }
    expect(rollout(sim).status()).toBeUndefined();
    expect(named(events, 'update-ordered')).toEqual([]);
    for (const b of [1, 2, 3, 4]) expect(await slotOf(sim, b)).toEqual({ committed: 'A', running: '1.0.0' });
  }, 150_000);
});
