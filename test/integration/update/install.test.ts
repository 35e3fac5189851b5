// Install, try, commit or roll back, on files standing in for the two root slots and a redundant U-Boot
// environment on raw storage; the health watch runs on a fake clock.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { makeBundle } from '../../../images/bundle/make.js';
import { bootChoice, type Slot } from '../../../firmware/update/decision.js';
import { installBundle, readRecord, type InstallContext } from '../../../firmware/update/install.js';
import { keyId } from '../../../firmware/update/keys.js';
import { encodeEnv, readEnv, RawEnvStore, updateEnv } from '../../../firmware/update/uboot-env.js';
import { watchBoot, type Health, type WatchContext } from '../../../firmware/update/watch.js';

const SLOT_BYTES = 4 << 20;
const ENV_SIZE = 0x4000;
let dir: string;
let key: KeyObject;
let env: RawEnvStore;
let slotA: Buffer;
let log: string[];

async function bundle(version: string, root: Buffer): Promise<string> {
  const file = join(dir, `root-${version}`);
  await writeFile(file, root);
  const out = join(dir, `${version}.bundle`);
  await makeBundle(
    { file, offset: 0, bytes: root.length, firmware: version, profile: 'qemu-virt-arm64', arch: 'aarch64' },
    key,
    out,
    0,
  );
  return out;
}

function ctx(booted: Slot): InstallContext {
  return {
    env,
    slots: {
      booted,
      path: { A: join(dir, 'slot-a'), B: join(dir, 'slot-b') },
      bytes: async () => SLOT_BYTES,
    },
    policy: { keys: new Map([[keyId(key), key]]), profile: 'qemu-virt-arm64', runningVersion: '0.1.0' },
    runningVersion: '0.1.0',
    recordFile: join(dir, 'update.json'),
    now: () => 1_000,
    log: (l) => void log.push(l),
  };
}

/** U-Boot's part of a boot: the boot script's choice, saved as its saveenv would. */
async function uBoot(): Promise<Slot> {
  const c = bootChoice(await readEnv(env));
  if (Object.keys(c.changes).length) await updateEnv(env, c.changes);
  return c.slot;
}

function watch(
  booted: Slot,
  health: () => Health,
  limitMs = 300_000,
): WatchContext & { rebooted: boolean; clock: number } {
  const w = {
    rebooted: false,
    clock: 0,
    env,
    booted,
    recordFile: join(dir, 'update.json'),
    limitMs,
    pollMs: 5_000,
    now: () => w.clock,
    sleep: async (ms: number) => void (w.clock += ms),
    healthy: async () => health(),
    reboot: async () => void (w.rebooted = true),
    log: (l: string) => void log.push(l),
  };
  return w;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'update-'));
  key = generateKeyPairSync('ed25519').privateKey;
  log = [];
  slotA = Buffer.alloc(SLOT_BYTES, 0xa1);
  await writeFile(join(dir, 'slot-a'), slotA);
  await writeFile(join(dir, 'slot-b'), Buffer.alloc(SLOT_BYTES));
  await writeFile(
    join(dir, 'env'),
    Buffer.concat([
      encodeEnv({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'A' }, ENV_SIZE, 1),
      Buffer.alloc(ENV_SIZE, 0xff),
    ]),
  );
  env = new RawEnvStore(join(dir, 'env'), [0, ENV_SIZE], ENV_SIZE);
});

describe('skyminer update on a board', () => {
  it('writes the new root into the spare slot, switches the boot for one try, and commits once healthy', async () => {
    const root = Buffer.from('new root '.repeat(100_000));
    const file = await bundle('0.2.0', root);
    const r = await installBundle(createReadStream(file), ctx('A'));
    expect(r.slot).toBe('B');
    expect((await readFile(join(dir, 'slot-b'))).subarray(0, root.length).equals(root)).toBe(true);
    expect((await readFile(join(dir, 'slot-a'))).equals(slotA)).toBe(true);
    expect(await readEnv(env)).toMatchObject({
      skyminer_slot: 'A',
      skyminer_try: 'B',
      skyminer_try_left: '1',
    });
    expect(await readRecord(join(dir, 'update.json'))).toMatchObject({
      stage: 'installed',
      version: '0.2.0',
      slot: 'B',
    });

    expect(await uBoot()).toBe('B');
    let checks = 0;
    const w = watch('B', () => ({ ok: ++checks >= 3, detail: 'agent not yet heard from the manager' }));
    expect(await watchBoot(w)).toBe('committed');
    expect(w.clock).toBe(10_000);
    expect(await readEnv(env)).toEqual({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'B' });
    expect(await readRecord(join(dir, 'update.json'))).toMatchObject({ stage: 'committed' });
    expect(await uBoot()).toBe('B');
  });

  it('tells its progress as it writes, reads back and switches, the last after the boot is switched', async () => {
    const root = Buffer.alloc(3 << 20, 0x5a);
    const file = await bundle('0.2.0', root);
    const seen: (string | undefined)[] = [];
    await installBundle(createReadStream(file), {
      ...ctx('A'),
      progress: () =>
        void seen.push(readFileSync(join(dir, 'env')).includes('skyminer_try=B') ? 'try' : undefined),
    });
    // At least a piece written, the flush, three MiB read back, and the switch.
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.at(-1)).toBe('try');
    expect(seen.slice(0, -1).every((s) => s === undefined)).toBe(true);
  });

  it('falls back by itself when the new slot never comes up, and reports it on the old one', async () => {
    await installBundle(createReadStream(await bundle('0.2.0', Buffer.alloc(100_000, 7))), ctx('A'));
    expect(await uBoot()).toBe('B');
    // Nothing ran on slot B: its kernel or init failed and the board reset.
    expect(await uBoot()).toBe('A');
    expect(await watchBoot(watch('A', () => ({ ok: true, detail: '' })))).toBe('rolled-back');
    expect(log.at(-1)).toBe(
      'update rolled back: firmware 0.2.0 (slot B) did not boot: back on the previous firmware',
    );
    expect(await readRecord(join(dir, 'update.json'))).toMatchObject({ stage: 'rolled-back' });
    expect(await readEnv(env)).toEqual({ bootcmd: 'run distro_bootcmd', skyminer_slot: 'A' });
  });

  it('gives up a slot that boots but never becomes healthy, at the limit, and the next boot is the old one', async () => {
    await installBundle(createReadStream(await bundle('0.2.0', Buffer.alloc(100_000, 7))), ctx('A'));
    expect(await uBoot()).toBe('B');
    const w = watch('B', () => ({ ok: false, detail: 'agent not running' }), 60_000);
    expect(await watchBoot(w)).toBe('gave-up');
    expect(w.rebooted).toBe(true);
    expect(w.clock).toBe(60_000);
    expect(await uBoot()).toBe('A');
    await watchBoot(watch('A', () => ({ ok: true, detail: '' })));
    expect(log.at(-1)).toBe(
      'update rolled back: firmware 0.2.0 (slot B) did not become healthy (agent not running): back on the previous firmware',
    );
  });

  it('leaves the boot on the running slot when the bundle is refused or cut short', async () => {
    const file = await bundle('0.2.0', Buffer.alloc(200_000, 9));
    const bytes = await readFile(file);
    const cut = join(dir, 'cut.bundle');
    await writeFile(cut, bytes.subarray(0, bytes.length - 100));
    const envBefore = await readFile(join(dir, 'env'));
    await expect(installBundle(createReadStream(cut), ctx('A'))).rejects.toThrow(/^truncated/);
    const older = await bundle('0.0.9', Buffer.alloc(1000, 1));
    await expect(installBundle(createReadStream(older), ctx('A'))).rejects.toThrow(
      'older than the running 0.1.0',
    );
    expect((await readFile(join(dir, 'env'))).equals(envBefore)).toBe(true);
    expect((await readFile(join(dir, 'slot-a'))).equals(slotA)).toBe(true);
    expect(await uBoot()).toBe('A');
  });

  it('refuses a root larger than the spare slot before writing any of it', async () => {
    const file = await bundle('0.2.0', Buffer.alloc(SLOT_BYTES + 1, 3));
    await expect(installBundle(createReadStream(file), ctx('A'))).rejects.toThrow(
      `the root image (${SLOT_BYTES + 1} bytes) is larger than slot B (${SLOT_BYTES} bytes)`,
    );
    expect((await stat(join(dir, 'slot-b'))).size).toBe(SLOT_BYTES);
    expect((await readFile(join(dir, 'slot-b'))).every((b) => b === 0)).toBe(true);
  });

  it('will not write over the slot on its trial boot', async () => {
    await installBundle(createReadStream(await bundle('0.2.0', Buffer.alloc(1000, 1))), ctx('A'));
    await uBoot();
    await expect(
      installBundle(createReadStream(await bundle('0.3.0', Buffer.alloc(1000, 2))), ctx('B')),
    ).rejects.toThrow('slot B is on its trial boot');
  });
});
