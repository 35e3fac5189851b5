// A box-wide visor update in the simulator: real signed visor bundles, served by the manager over HTTP on loopback,
// ordered over the authenticated channel, fetched by every board and installed with the visor install code
// (visor-install.ts: checked, swapped into the board's visor slots, the visor service restarted on the new binary,
// kept only when it stays up, else the previous binary put back). The simulator's visors run whatever binary the
// slots make current, so a bad build really dies on the board that runs it.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeVisorBundle } from '../../images/bundle/visor.js';
import { defaultConfig } from '../../firmware/config/load.js';
import { simVisorBinary } from '../../firmware/sim/sim-visor.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { RolloutLoop } from '../../firmware/supervisor/rollout-loop.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { keyId } from '../../firmware/update/keys.js';
import type { VisorArch } from '../../firmware/update/visor-bundle.js';
import { waitFor } from '../helpers/wait.js';

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
  o: { arch?: VisorArch; key?: KeyObject; name?: string; exitsAfterMs?: number } = {},
): Promise<string> {
  const binary = join(work, `skywire-${version}-${o.name ?? 'good'}`);
  await writeFile(
    binary,
    simVisorBinary(version, o.exitsAfterMs !== undefined ? { exitsAfterMs: o.exitsAfterMs } : {}),
  );
  const out = join(work, `${o.name ?? version}.visor-bundle`);
  await makeVisorBundle({ binary, version, arch: o.arch ?? 'arm64' }, o.key ?? key, out, 0);
  return out;
}

async function startSim(
  o: {
    visorArchOf?: (board: number) => VisorArch | undefined;
    onEvent?: (e: SupervisorEvent, s: Simulator) => void;
  } = {},
): Promise<{ sim: Simulator; events: SupervisorEvent[] }> {
  work = await mkdtemp(join(tmpdir(), 'skyminer-visor-rollout-'));
  const events: SupervisorEvent[] = [];
  const config = defaultConfig({
    box: { boards: 4 },
    supervisor: { power_on_gap_ms: 20, heartbeat_interval_ms: 100, heartbeat_timeout_ms: 600 },
  });
  const s = new Simulator({
    config,
    bootMs: 50,
    events: (e) => {
      events.push(e);
      o.onEvent?.(e, s);
    },
    stateFile: join(work, 'state.json'),
    skywire: { followMs: 100, summaryPollMs: 200 },
    update: {
      dir: join(work, 'box'),
      keys: new Map([[keyId(key), key]]),
      profile: 'sim-arm64',
      version: '1.0.0',
      limits: { orderMs: 20_000, installMs: 30_000, healthyMs: 30_000, resendMs: 1000 },
      tickMs: 50,
      visorArch: 'arm64',
      ...(o.visorArchOf ? { visorArchOf: o.visorArchOf } : {}),
      visorSwap: { limitMs: 6000, steadyMs: 1500 },
    },
  });
  sim = s;
  await s.start();
  await waitFor('all boards up', () => s.supervisor.view().boards.every((b) => b.status === 'up'), 20_000);
  await waitFor(
    'every visor running v1.3.28',
    () =>
      s.supervisor
        .boardsSeen()
        .every((b) => b.visor?.running === true && b.visor.version === 'v1.3.28' && b.earning),
    30_000,
  );
  return { sim: s, events };
}

const ended = (events: SupervisorEvent[]) =>
  events.some((e) => e.event === 'rollout-done' || e.event === 'rollout-stopped');
const named = (events: SupervisorEvent[], name: string) =>
  events.filter((e) => e.event === name).map((e) => e.board);

function rollout(s: Simulator): RolloutLoop {
  if (!s.rollout) throw new Error('the simulated manager runs no rollout');
  return s.rollout;
}

/** Each board's visor as the manager sees it, and what its slots make current. */
async function visorOf(
  s: Simulator,
  board: number,
): Promise<{ version: string | null; current: string | null }> {
  const seen = s.supervisor.boardsSeen().find((b) => b.board === board)!;
  const current = await readlink(join(work, 'box', `board-${board}`, 'skywire', 'current')).catch(() => null);
  return { version: seen.visor?.version ?? null, current };
}

const bootIds = (s: Simulator) => s.supervisor.boardsSeen().map((b) => b.bootId);

describe('box-wide visor update in the simulator', () => {
  it('rolls a visor bundle out to every board in order, the manager last, with no board rebooted', async () => {
    const { sim, events } = await startSim();
    const boots = bootIds(sim);
    const answer = await rollout(sim).begin(await bundle('v1.3.29'), 'test');
    expect(answer).toEqual({
      ok: true,
      message:
        'updating the visors to skywire v1.3.29, one board at a time: board 2, board 3, board 4, board 1',
    });
    await waitFor('the rollout to end', () => ended(events), 90_000);
    expect(rollout(sim).status()?.result?.kind).toBe('done');
    expect(named(events, 'visor-update-ordered')).toEqual([2, 3, 4, 1]);
    expect(named(events, 'visor-update-kept')).toEqual([2, 3, 4, 1]);
    expect(events.find((e) => e.event === 'rollout-start')).toMatchObject({
      kind: 'visor',
      version: 'v1.3.29',
      order: [2, 3, 4, 1],
    });
    // No board went down: the same boots, no restart, no firmware reboot.
    expect(bootIds(sim)).toEqual(boots);
    expect(events.filter((e) => e.event === 'restart' || e.event === 'update-reboot')).toEqual([]);
    await waitFor(
      'every visor heard on v1.3.29',
      () => sim.supervisor.boardsSeen().every((b) => b.visor?.version === 'v1.3.29'),
      10_000,
    );
    for (const b of [1, 2, 3, 4])
      expect(await visorOf(sim, b)).toEqual({
        version: 'v1.3.29',
        current: expect.stringMatching(/^releases\/v1\.3\.29-/),
      });
    for (const b of [1, 2, 3, 4])
      await expect(readFile(join(work, 'box', `board-${b}`, 'skywire', 'visor-trial.json'))).rejects.toThrow(
        /ENOENT/,
      );
    // The hypervisor lists every visor on its new version.
    expect(sim.skywire!.visors.map((v) => v.version)).toEqual(['v1.3.29', 'v1.3.29', 'v1.3.29', 'v1.3.29']);
    expect(rollout(sim).status()!.kind).toBe('visor');
  }, 150_000);

  it('stops at the first board when the new visor dies after it starts, and that board falls back by itself', async () => {
    const { sim, events } = await startSim();
    await rollout(sim).begin(await bundle('v1.3.29', { exitsAfterMs: 300, name: 'dies' }), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 2 });
    expect(result.kind === 'stopped' && result.reason).toMatch(
      /^fell back to its previous visor v1\.3\.28: the new visor (did not come up|answered only \d+ s of the 2 s needed) within 6 s/,
    );
    expect(named(events, 'visor-update-ordered')).toEqual([2]);
    await waitFor(
      'board 2 back on v1.3.28',
      () => sim.supervisor.boardsSeen().find((b) => b.board === 2)?.visor?.version === 'v1.3.28',
      10_000,
    );
    for (const b of [1, 2, 3, 4])
      expect(await visorOf(sim, b)).toEqual({ version: 'v1.3.28', current: null });
  }, 150_000);

  it('stops at the board whose new visor does not run there; the boards before keep theirs, the ones after are untouched', async () => {
    const { sim, events } = await startSim();
    sim.visorFaults.set(3, 200);
    await rollout(sim).begin(await bundle('v1.3.29'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 3 });
    expect(result.kind === 'stopped' && result.reason).toMatch(
      /^fell back to its previous visor v1\.3\.28: /,
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'rollout-stopped',
        board: 3,
        kind: 'visor',
      }),
    );
    expect(named(events, 'visor-update-ordered')).toEqual([2, 3]);
    await waitFor(
      'board 3 back on v1.3.28',
      () => sim.supervisor.boardsSeen().find((b) => b.board === 3)?.visor?.version === 'v1.3.28',
      10_000,
    );
    expect((await visorOf(sim, 2)).version).toBe('v1.3.29');
    for (const b of [3, 4, 1]) expect(await visorOf(sim, b)).toEqual({ version: 'v1.3.28', current: null });
  }, 150_000);

  it('carries on after a manager restart mid-rollout without swapping the boards already done again', async () => {
    const { sim, events } = await startSim();
    await rollout(sim).begin(await bundle('v1.3.29'), 'test');
    await waitFor('board 3 to be ordered', () => named(events, 'visor-update-ordered').includes(3), 30_000);
    const before = rollout(sim);
    await sim.resetManager(100);
    await waitFor('a new manager', () => rollout(sim) !== before);
    await waitFor('the rollout to end', () => ended(events), 90_000);
    expect(rollout(sim).status()).toMatchObject({ kind: 'visor', result: { kind: 'done' } });
    expect(named(events, 'visor-update-ordered').filter((b) => b === 2)).toEqual([2]);
    expect(named(events, 'visor-update-kept')).toEqual([2, 3, 4, 1]);
    for (const b of [1, 2, 3, 4]) expect((await visorOf(sim, b)).current).toMatch(/^releases\/v1\.3\.29-/);
    const saved = JSON.parse(await readFile(join(work, 'box', 'manager', 'rollout.json'), 'utf8'));
    expect(saved).toMatchObject({ kind: 'visor', result: { kind: 'done' } });
  }, 150_000);

  it('gives up a visor still on trial when its board restarts, and the rollout says so', async () => {
    const { sim, events } = await startSim({
      // Board 3 resets just after its visor was swapped, before any verdict.
      onEvent: (e, s) => {
        if (e.event === 'visor-update-installed' && e.board === 3) s.boards[2]!.crash();
      },
    });
    await rollout(sim).begin(await bundle('v1.3.29'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    const result = rollout(sim).status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 3 });
    expect(result.kind === 'stopped' && result.reason).toMatch(/^restarted during its visor update/);
    await waitFor(
      'board 3 up again with its visor on v1.3.28',
      () => sim.supervisor.boardsSeen().find((b) => b.board === 3)?.visor?.version === 'v1.3.28',
      20_000,
    );
    expect(await visorOf(sim, 3)).toEqual({ version: 'v1.3.28', current: null });
    await expect(readFile(join(work, 'box', 'board-3', 'skywire', 'visor-trial.json'))).rejects.toThrow(
      /ENOENT/,
    );
    expect((await visorOf(sim, 2)).version).toBe('v1.3.29');
  }, 150_000);

  it('stops with a clear refusal at a board of another architecture, its visor untouched', async () => {
    const { sim, events } = await startSim({ visorArchOf: (b) => (b === 3 ? 'arm' : undefined) });
    await rollout(sim).begin(await bundle('v1.3.29'), 'test');
    await waitFor('the rollout to end', () => ended(events), 90_000);
    expect(rollout(sim).status()!.result).toMatchObject({
      kind: 'stopped',
      board: 3,
      reason: 'refused the bundle: skywire for arm64; this board is arm',
    });
    expect(await visorOf(sim, 3)).toEqual({ version: 'v1.3.28', current: null });
    expect((await visorOf(sim, 2)).version).toBe('v1.3.29');
  }, 150_000);

  it('refuses an unsigned, foreign-signed, truncated, other-architecture, older or unknown file and touches no board', async () => {
    const { sim, events } = await startSim();
    const good = await readFile(await bundle('v1.3.29'));
    const unsigned = join(work, 'unsigned.visor-bundle');
    // The signature's length set to 0 and its bytes dropped: a bundle that carries no signature.
    const manifestEnd = 8 + 4 + good.readUInt32BE(8);
    const sigLen = good.readUInt16BE(manifestEnd);
    const header = Buffer.from(good.subarray(0, manifestEnd + 2));
    header.writeUInt16BE(0, manifestEnd);
    await writeFile(unsigned, Buffer.concat([header, good.subarray(manifestEnd + 2 + sigLen)]));
    const truncated = join(work, 'truncated.visor-bundle');
    await writeFile(truncated, good.subarray(0, good.length - 10));
    const junk = join(work, 'junk.bin');
    await writeFile(junk, 'hello, this is not a bundle');
    const cases: [string, RegExp][] = [
      [unsigned, /^refused: unsigned: the bundle carries no signature; no board was touched$/],
      [
        await bundle('v1.3.30', { key: generateKeyPairSync('ed25519').privateKey, name: 'foreign' }),
        /^refused: signed by key [0-9a-f]{16}, which this board does not trust/,
      ],
      [truncated, /^refused: truncated: \d+ of the payload's \d+ bytes; no board was touched$/],
      [
        await bundle('v1.3.29', { arch: 'amd64', name: 'amd64' }),
        /^refused: skywire for amd64; this board is arm64/,
      ],
      [await bundle('v1.3.27'), /^refused: skywire v1\.3\.27 is older than board 2's v1\.3\.28$/],
      [junk, /^refused: not a bundle \(neither SKYBNDL1 nor SKYVISR1 at its start\); no board was touched$/],
    ];
    for (const [file, message] of cases) {
      const answer = await rollout(sim).begin(file, 'test');
      expect(answer.ok, file).toBe(false);
      expect(answer.message).toMatch(message);
      expect(answer.message).not.toContain('\n');
    }
    expect(rollout(sim).status()).toBeUndefined();
    expect(named(events, 'visor-update-ordered')).toEqual([]);
    for (const b of [1, 2, 3, 4])
      expect(await visorOf(sim, b)).toEqual({ version: 'v1.3.28', current: null });
  }, 150_000);
});
