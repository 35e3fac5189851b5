// The agent's side of a trial boot on a device: the manager's acknowledgement is recorded for the boot's watch, which
// alone commits (on the manager it also waits for the supervisor and the panel); the agent never commits itself.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_UPDATE_REASON } from '../../../firmware/protocol/messages.js';
import { SlotUpdater } from '../../../firmware/update/board-updater.js';
import type { UpdateRecord } from '../../../firmware/update/decision.js';
import { writeRecord } from '../../../firmware/update/install.js';
import { encodeEnv, FileEnvStore, type Env } from '../../../firmware/update/uboot-env.js';
import { waitFor } from '../../helpers/wait.js';

const ENV_BYTES = 0x4000;
let dir: string;
let updater: SlotUpdater | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'board-updater-'));
});

afterEach(async () => {
  updater?.stop();
  updater = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function board(
  env: Env,
  acknowledged: () => Promise<void>,
  checksFailing: (failing: readonly string[]) => Promise<void> = async () => {},
) {
  const envFile = join(dir, 'uboot.env');
  await writeFile(envFile, encodeEnv(env, ENV_BYTES));
  const log: string[] = [];
  updater = new SlotUpdater({
    env: new FileEnvStore(envFile, ENV_BYTES),
    slots: { booted: 'B', path: { A: join(dir, 'a'), B: join(dir, 'b') }, bytes: async () => 0 },
    version: '0.2.0',
    policy: { keys: new Map() },
    recordFile: join(dir, 'update.json'),
    fetch: () => Promise.reject(new Error('no manager')),
    reboot: () => {},
    now: () => Date.now(),
    log: (l) => void log.push(l),
    acknowledged,
    checksFailing,
  });
  await updater.start();
  return { envFile, log, updater };
}

const TRIAL = { skyminer_slot: 'A', skyminer_try: 'B', skyminer_try_left: '0' };

describe("the agent's part in a trial boot on a device", () => {
  it("records the manager's acknowledgement and leaves the commit to the boot's watch", async () => {
    let recorded = 0;
    const { envFile, log, updater } = await board(TRIAL, async () => void recorded++);
    const before = await readFile(envFile);
    expect(updater.report()).toMatchObject({ slot: 'B', trying: true });
    updater.commit();
    await waitFor('the acknowledgement recorded', () => recorded === 1);
    expect(log).toEqual(['the manager acknowledged this trial boot']);
    expect((await readFile(envFile)).equals(before)).toBe(true);
  });

  it('records nothing on a boot that is not a trial', async () => {
    let recorded = 0;
    const { updater } = await board(
      { skyminer_slot: 'B' },
      async () => void recorded++,
      async () => void recorded++,
    );
    updater.checked(['root-fs']);
    updater.commit();
    await new Promise((r) => setTimeout(r, 50));
    expect(recorded).toBe(0);
  });

  it('records the failing checks of a trial boot when they change, until the manager acknowledges it', async () => {
    const lists: string[][] = [];
    const { log, updater } = await board(
      TRIAL,
      async () => {},
      async (f) => void lists.push([...f]),
    );
    for (const failing of [['root-fs'], ['root-fs'], ['root-fs', 'memory'], []]) updater.checked(failing);
    updater.commit();
    await waitFor('the acknowledgement', () => log.includes('the manager acknowledged this trial boot'));
    updater.checked(['memory']);
    await new Promise((r) => setTimeout(r, 50));
    expect(lists).toEqual([['root-fs'], ['root-fs', 'memory'], []]);
  });

  it('says when the acknowledgement could not be recorded, and records it at the next one', async () => {
    let calls = 0;
    const { log, updater } = await board(TRIAL, async () => {
      if (++calls === 1) throw new Error('EROFS: read-only file system');
    });
    updater.commit();
    await waitFor('the failed write', () => log.length === 1);
    expect(log[0]).toBe("the manager's acknowledgement not recorded: EROFS: read-only file system");
    updater.commit();
    await waitFor('the second write', () => log.length === 2);
    expect(log[1]).toBe('the manager acknowledged this trial boot');
  });

  it('says once, not at every heartbeat, that the failing checks could not be recorded', async () => {
    let calls = 0;
    const { log, updater } = await board(
      TRIAL,
      async () => {},
      async () => {
        calls++;
        throw new Error('ENOSPC: no space left on device');
      },
    );
    for (let i = 1; i <= 3; i++) {
      updater.checked(['root-fs']);
      await waitFor(`write ${i}`, () => calls === i);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(log).toEqual(['the failing checks not recorded: ENOSPC: no space left on device']);
  });

  it("cuts a reason too long for a heartbeat to the report's limit rather than lose the heartbeat", async () => {
    await writeRecord(join(dir, 'update.json'), {
      version: '0.3.0',
      slot: 'A',
      fromVersion: '0.2.0',
      fromSlot: 'B',
      stage: 'gave-up',
      reason: `no heartbeat acknowledged by the manager; its checks fail: ${'check-'.repeat(80)}`,
      at: 0,
      order: '0123456789abcdef',
    } as UpdateRecord);
    const { updater } = await board({ skyminer_slot: 'B' }, async () => {});
    const reason = updater.report()?.update?.reason ?? '';
    expect(reason).toHaveLength(MAX_UPDATE_REASON);
    expect(reason).toMatch(/^no heartbeat acknowledged by the manager; its checks fail: check-.*\.\.\.$/);
  });
});
