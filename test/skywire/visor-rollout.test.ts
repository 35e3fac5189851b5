// A box-wide visor update against real Skywire: the firmware's compositions (every board's agent with its visor
// service, the manager's supervisor and rollout) with a real visor per board, each in its board's network namespace.
// A signed visor bundle holding a real `skywire` binary goes out from the manager one board at a time, the manager
// last; each board fetches it, swaps it in and its visor service restarts the real visor on it. A bundle whose
// binary does not run stops the next rollout at the first board, which falls back to its previous binary by itself.
// Each board's turn takes its real visor's restart and 5 s of steady answers (about half a minute here), so the
// tests get more than the tier's default time.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeVisorBundle } from '../../images/bundle/visor.js';
import { defaultConfig } from '../../firmware/config/load.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { keyId } from '../../firmware/update/keys.js';
import { readSlots } from '../../firmware/update/visor-slots.js';
import { hostSkywire, SkywireLab } from './lab.js';
import { untilRead } from '../helpers/wait.js';

let lab: SkywireLab;
let sim: Simulator;
let binary: string;
let work: string;
let signer: KeyObject;
const events: SupervisorEvent[] = [];

const passwordFile = () => lab.passwordFile;
const visorOf = (n: number) => sim.supervisor.view().boards[n - 1]!.telemetry?.visor ?? null;
const visorPid = async (n: number) => (await readFile(join(lab.board(n).dir, 'visor.pid'), 'utf8')).trim();
const ended = () => events.some((e) => e.event === 'rollout-done' || e.event === 'rollout-stopped');
const named = (name: string) => events.filter((e) => e.event === name).map((e) => e.board);

async function client(): Promise<HypervisorClient> {
  const password = (await readFile(passwordFile(), 'utf8')).trim();
  return new HypervisorClient({ url: lab.hypervisorUrl, password, timeoutMs: 25_000 });
}

beforeAll(async () => {
  binary = await hostSkywire();
  work = await mkdtemp(join(tmpdir(), 'visor-rollout-'));
  signer = generateKeyPairSync('ed25519').privateKey;
  const keys = new Map([[keyId(signer), signer]]);
  lab = await SkywireLab.start({ binary, boards: 4, firmwareVisors: true });
  sim = new Simulator({
    config: defaultConfig({ box: { boards: 4 }, supervisor: { power_on_gap_ms: 50 } }),
    bootMs: 50,
    events: (e) => events.push(e),
    update: {
      dir: join(work, 'box'),
      keys,
      profile: 'sim-amd64',
      version: '1.0.0',
      visorArch: 'amd64',
      limits: { orderMs: 60_000, installMs: 120_000, healthyMs: 180_000, resendMs: 2000 },
      tickMs: 250,
    },
    visors: (n) => ({
      ...lab.firmwareVisor(n),
      // The visor's binaries beside its keys, as on a board: the host runs `current` from there.
      update: {
        dir: lab.board(n).dir,
        keys: () => Promise.resolve(keys),
        arch: 'amd64',
        swap: { limitMs: 90_000, steadyMs: 5_000 },
        probeEveryMs: 1000,
      },
    }),
  });
  await sim.start();
  const c = await untilRead(
    'the hypervisor with its account',
    async () => {
      const c = await client();
      await c.visorsSummary();
      return c;
    },
    () => true,
  );
  await untilRead(
    'four visors listed',
    () => c.visorsSummary(),
    (v) => v.length === 4,
  );
  await untilRead(
    'every board reporting its visor running',
    async () => [1, 2, 3, 4].map(visorOf),
    (v) => v.every((x) => x?.status === 'running'),
  );
}, 900_000);

afterAll(async () => {
  await sim?.stop();
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a box-wide visor update with real Skywire visors', () => {
  it('rolls a real visor bundle out board by board, the manager last, every visor restarted on it and listed again', async () => {
    const good = join(work, 'v1.3.29.visor-bundle');
    await makeVisorBundle({ binary, version: 'v1.3.29', arch: 'amd64' }, signer, good, 1);
    const boots = sim.boards.map((b) => b.boots);
    const startedAt = Date.now();
    const answer = await sim.rollout!.begin(good, 'test');
    expect(answer).toEqual({
      ok: true,
      message:
        'updating the visors to skywire v1.3.29, one board at a time: board 2, board 3, board 4, board 1',
    });
    await untilRead('the rollout to end', async () => ended(), Boolean, 600_000);
    console.log(`visor rollout over four real visors: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    expect(sim.rollout!.status()?.result?.kind).toBe('done');
    expect(named('visor-update-kept')).toEqual([2, 3, 4, 1]);
    for (const n of [1, 2, 3, 4]) {
      const slots = await readSlots(lab.board(n).dir);
      expect(slots.current).toMatch(/^releases\/v1\.3\.29-/);
      // The running visor is the process of the new binary, started by the board's visor service.
      const cmdline = await readFile(`/proc/${await visorPid(n)}/cmdline`, 'utf8');
      expect(cmdline).toContain(join(lab.board(n).dir, 'current', 'skywire'));
    }
    // No board was reset or restarted for it.
    expect(sim.boards.map((b) => b.boots)).toEqual(boots);
    expect(events.filter((e) => ['restart', 'update-reboot', 'rebooted'].includes(e.event))).toEqual([]);
    const c = await client();
    await untilRead(
      'four visors listed again',
      () => c.visorsSummary(),
      (v) => v.length === 4,
    );
  }, 900_000);

  it('stops at the first board whose new visor does not come up; it falls back by itself and the rest are untouched', async () => {
    const brokenBin = join(work, 'broken');
    await writeFile(brokenBin, '#!/bin/sh\necho "not a visor" >&2\nexit 3\n', { mode: 0o755 });
    const broken = join(work, 'v1.3.30.visor-bundle');
    await makeVisorBundle({ binary: brokenBin, version: 'v1.3.30', arch: 'amd64' }, signer, broken, 1);
    const before = await Promise.all([1, 2, 3, 4].map((n) => readSlots(lab.board(n).dir)));
    events.length = 0;
    const answer = await sim.rollout!.begin(broken, 'test');
    expect(answer.ok).toBe(true);
    await untilRead('the rollout to end', async () => ended(), Boolean, 600_000);
    const result = sim.rollout!.status()!.result!;
    expect(result).toMatchObject({ kind: 'stopped', board: 2 });
    expect(result.kind === 'stopped' && result.reason).toMatch(
      /^fell back to its previous visor v1\.3\.28: the new visor did not come up within 90 s; last: /,
    );
    expect(named('visor-update-ordered')).toEqual([2]);
    // Board 2 is back on the binary it ran before, and its real visor runs it again.
    expect(await readSlots(lab.board(2).dir)).toEqual({ current: before[1]!.current, previous: null });
    await untilRead(
      'board 2 visor running again',
      async () => visorOf(2),
      (v) => v?.status === 'running',
    );
    for (const n of [1, 3, 4]) expect(await readSlots(lab.board(n).dir)).toEqual(before[n - 1]);
    const c = await client();
    await untilRead(
      'four visors listed again',
      () => c.visorsSummary(),
      (v) => v.length === 4,
    );
  }, 900_000);
});
