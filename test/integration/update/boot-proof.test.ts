// The proofs a trial boot's watch reads on a device: written by the agent and the supervisor under /run/skyminer
// (a temporary directory here), bound to the kernel's boot id (a file standing in for /proc's) and to the writer.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ACK_PROOF,
  CHECKS_PROOF,
  deviceTrialFacts,
  deviceTrialHealth,
  MANAGER_PROOF,
  recordProof,
  type ProofPaths,
} from '../../../firmware/update/boot-proof.js';
import type { UpdateRecord } from '../../../firmware/update/decision.js';
import { readRecord, writeRecord } from '../../../firmware/update/install.js';
import { encodeEnv, FileEnvStore, readEnv } from '../../../firmware/update/uboot-env.js';
import { watchBoot } from '../../../firmware/update/watch.js';

const BOOT_1 = '0f5e7a5c-6a1e-4a8e-9d5b-2a7c1d3e4f50';
const BOOT_2 = '7c1d3e4f-2a7c-4a8e-9d5b-0f5e7a5c6a1e';
const ENV_BYTES = 0x4000;

let dir: string;
let paths: Required<ProofPaths>;

async function boot(id: string): Promise<void> {
  await writeFile(paths.bootIdFile, `${id}\n`);
}

async function role(r: string): Promise<void> {
  await writeFile(join(paths.stateDir, 'role'), `${r}\n`);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'boot-proof-'));
  paths = { runDir: join(dir, 'run'), stateDir: dir, bootIdFile: join(dir, 'boot_id') };
  await boot(BOOT_1);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a trial boot's proofs on a device", () => {
  it("holds a worker back until its agent recorded the manager's acknowledgement in this boot", async () => {
    await role('board');
    expect(await deviceTrialHealth(paths)).toEqual({
      ok: false,
      detail: 'no heartbeat acknowledged by the manager',
    });
    await recordProof(ACK_PROOF, {}, paths);
    expect(await deviceTrialHealth(paths)).toEqual({
      ok: true,
      detail: 'heartbeat acknowledged by the manager',
    });
  });

  it('does not count a proof written in an earlier boot', async () => {
    await role('board');
    await recordProof(ACK_PROOF, {}, paths);
    await boot(BOOT_2);
    expect((await deviceTrialFacts(paths)).acknowledged).toBe(false);
  });

  it('does not count a proof whose writer has died since', async () => {
    await role('board');
    await recordProof(ACK_PROOF, {}, paths);
    expect((await deviceTrialFacts(paths, () => false)).acknowledged).toBe(false);
    expect((await deviceTrialFacts(paths, (pid) => pid === process.pid)).acknowledged).toBe(true);
  });

  it("adds the agent's failing checks of this boot to the missing acknowledgement, and drops them once they pass", async () => {
    await role('board');
    await recordProof(CHECKS_PROOF, { failing: ['root-fs'] }, paths);
    expect((await deviceTrialHealth(paths)).detail).toBe(
      'no heartbeat acknowledged by the manager; its checks fail: root-fs',
    );
    await recordProof(CHECKS_PROOF, { failing: [] }, paths);
    expect((await deviceTrialHealth(paths)).detail).toBe('no heartbeat acknowledged by the manager');
    await recordProof(CHECKS_PROOF, { failing: ['memory'] }, paths);
    await boot(BOOT_2);
    expect((await deviceTrialHealth(paths)).detail).toBe('no heartbeat acknowledged by the manager');
  });

  it('names the supervisor, then the panel, then the acknowledgement on the manager, as each is proved', async () => {
    await role('manager');
    expect((await deviceTrialHealth(paths)).detail).toBe('supervisor not running');
    await recordProof(MANAGER_PROOF, { panel: 'waiting' }, paths);
    expect((await deviceTrialHealth(paths)).detail).toBe('panel not drawn');
    await recordProof(MANAGER_PROOF, { panel: 'drawn' }, paths);
    expect((await deviceTrialHealth(paths)).detail).toBe('no heartbeat acknowledged by the manager');
    await recordProof(ACK_PROOF, {}, paths);
    expect(await deviceTrialHealth(paths)).toEqual({
      ok: true,
      detail: 'supervisor up, panel drawn, heartbeat acknowledged',
    });
  });

  it('replaces a proof whole and leaves no temporary file beside it', async () => {
    await role('manager');
    await recordProof(MANAGER_PROOF, { panel: 'waiting' }, paths);
    await recordProof(MANAGER_PROOF, { panel: 'none' }, paths);
    expect(await readdir(paths.runDir)).toEqual([MANAGER_PROOF]);
    const proof = JSON.parse(await readFile(join(paths.runDir, MANAGER_PROOF), 'utf8')) as object;
    expect(proof).toMatchObject({ boot_id: BOOT_1, pid: process.pid, panel: 'none' });
  });

  it('takes a damaged or foreign proof for none, and leaves the file where it is', async () => {
    await role('board');
    await recordProof(ACK_PROOF, {}, paths);
    const file = join(paths.runDir, ACK_PROOF);
    for (const text of ['', '{"boot_id":', '[]', JSON.stringify({ boot_id: BOOT_1, pid: 0, at: 0 })]) {
      await writeFile(file, text);
      expect(await deviceTrialHealth(paths)).toEqual({
        ok: false,
        detail: 'no heartbeat acknowledged by the manager',
      });
      expect(await readFile(file, 'utf8')).toBe(text);
    }
  });

  it('names the boot id it cannot read as the reason not to commit, and refuses to record without it', async () => {
    await role('board');
    await rm(paths.bootIdFile);
    expect(await deviceTrialHealth(paths)).toEqual({
      ok: false,
      detail: `cannot read this boot's id from ${paths.bootIdFile} (ENOENT)`,
    });
    await expect(recordProof(ACK_PROOF, {}, paths)).rejects.toThrow(/cannot read this boot's id/);
    await writeFile(paths.bootIdFile, 'not an id\n');
    expect((await deviceTrialHealth(paths)).detail).toBe(`${paths.bootIdFile}: not a boot id`);
  });
});

describe("the watch of a worker's trial boot, on its proofs", () => {
  const record: UpdateRecord = {
    version: '0.2.0',
    slot: 'B',
    fromVersion: '0.1.0',
    fromSlot: 'A',
    stage: 'installed',
    at: 0,
  };

  async function trial() {
    await role('board');
    const envFile = join(dir, 'uboot.env');
    await writeFile(
      envFile,
      encodeEnv({ skyminer_slot: 'A', skyminer_try: 'B', skyminer_try_left: '0' }, ENV_BYTES),
    );
    await writeRecord(join(dir, 'update.json'), record);
    const log: string[] = [];
    const w = {
      clock: 0,
      rebooted: false,
      /** Called at each poll, with the clock after it: what the board's services do meanwhile. */
      during: (_ms: number): Promise<void> => Promise.resolve(),
    };
    const ctx = {
      env: new FileEnvStore(envFile, ENV_BYTES),
      booted: 'B' as const,
      recordFile: join(dir, 'update.json'),
      limitMs: 300_000,
      pollMs: 5_000,
      now: () => w.clock,
      sleep: async (ms: number) => {
        w.clock += ms;
        await w.during(w.clock);
      },
      healthy: () => deviceTrialHealth(paths),
      reboot: async () => void (w.rebooted = true),
      log: (l: string) => void log.push(l),
    };
    return { w, ctx, log };
  }

  it('commits once the agent records the acknowledgement, not before', async () => {
    const { w, ctx } = await trial();
    w.during = async (now) => {
      if (now === 20_000) await recordProof(ACK_PROOF, {}, paths);
    };
    expect(await watchBoot(ctx)).toBe('committed');
    expect(w.clock).toBe(20_000);
    expect(await readEnv(ctx.env)).toEqual({ skyminer_slot: 'B' });
  });

  it('gives up at the limit when the agent runs but the manager never acknowledges it, and the record says why', async () => {
    const { w, ctx, log } = await trial();
    expect(await watchBoot(ctx)).toBe('gave-up');
    expect(w.rebooted).toBe(true);
    expect(w.clock).toBe(300_000);
    expect(await readRecord(ctx.recordFile)).toMatchObject({
      stage: 'gave-up',
      reason: 'no heartbeat acknowledged by the manager',
    });
    expect(log.at(-1)).toBe(
      'slot B not healthy after 300 s (no heartbeat acknowledged by the manager): rebooting to fall back',
    );
  });
});
