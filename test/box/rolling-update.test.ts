// A box-wide update on the QEMU box (make test-box): four boards booted through Debian's U-Boot, each from its own
// card and its own environment bank, take one signed bundle from the manager, one board at a time: a worker
// first, then the others, the manager last. Each board's reboot into its new slot is read from QEMU (its reset
// events) and from U-Boot itself (the slot its boot script names on the serial console); the order and the boards'
// states from the manager's control socket (`update status --json`, `events --json`, `boards --json`).
//
// The manager's own reboot resets its GPIO controller, and the box's power lines, pulled down, switch every worker
// off until the new manager switches them on again: the workers' last boot is a power cut in their committed slot.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../firmware/update/rollout.js';
import { rootOfImage } from '../../images/bundle/make.js';
import { repoRoot } from '../../images/build.js';
import { ubootQemu } from '../../images/emulator/uboot.js';
import { stickOf, versionedBundle } from '../hil/uboot-board.js';
import { buildBoxImage } from './box-image.js';
import {
  Box,
  boardsJson,
  closeShell,
  eventsJson,
  loginManager,
  managerCommand,
  managerJsonObject,
  openShell,
  type BoardReport,
  type EventReport,
} from './box.js';

const BOARDS = 4;
const WORKERS = [2, 3, 4];
const CONSOLE_PASSWORD = 'skyminer-console-test';
const NEW_VERSION = '0.3.0';
const BUNDLE = 'next.bundle';
/** The image's own build time: the bundle is made at the same one. */
const EPOCH = 1_700_000_000;
/** Under TCG on a loaded two-core host: U-Boot, the kernel, then a Node start of tens of seconds. */
const BOARD_UP_MS = 420_000;
/** The whole rollout: four installs of the root (a few minutes each under TCG) and four reboots. */
const ROLLOUT_MS = 40 * 60_000;

let box: Box;
let dir: string;
let image: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'box-update-'));
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyFile = join(dir, 'signing.pem');
  await writeFile(keyFile, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  // No Skywire in this image: the update is what is tried here, and a smaller root installs sooner under TCG.
  image = await buildBoxImage(CONSOLE_PASSWORD, { skywire: false, signingKey: keyFile });
  const src = await rootOfImage(image);
  await mkdir(join(dir, 'stick'));
  await versionedBundle(image, src, dir, NEW_VERSION, key, BUNDLE, EPOCH);
  const stick = await stickOf(dir, [(await stat(join(dir, 'stick', BUNDLE))).size]);
  box = await Box.start({
    image,
    boards: BOARDS,
    uboot: { qemu: await ubootQemu(repoRoot()) },
    drives: { 1: [`file=${stick},format=raw,if=virtio,readonly=on`] },
  });
}, 900_000);

afterAll(async () => {
  await box?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (image) await rm(join(image, '..'), { recursive: true, force: true });
});

const SLOT_BOOTED = /skyminer: booting root slot ([AB])/g;
/** Where each board's console stood when the update began. */
const consoleAtStart = new Map<number, number>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilBoards(
  what: string,
  check: (boards: BoardReport[]) => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The console answers before the supervisor's control socket is there, after the manager's boot.
    const boards = await boardsJson(box).catch((): BoardReport[] => []);
    if (check(boards)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; boards: ${JSON.stringify(boards)}; ${box.describe()}`);
    await sleep(3000);
  }
}

const allUp = (boards: BoardReport[]): boolean =>
  boards.length === BOARDS && boards.every((b) => b.status === 'up');

/** A rollout takes the boards up and healthy when it starts; a TCG worker's checks fail now and then under load. */
const allHealthy = (boards: BoardReport[]): boolean => allUp(boards) && boards.every((b) => b.healthy);

function updateStatus(): Promise<Rollout | null> {
  return managerJsonObject<Rollout | null>(box, 'update status --json').catch((err: Error) => {
    // No rollout yet prints `null`, which is no JSON object.
    if (/no JSON/.test(err.message)) return null;
    throw err;
  });
}

/** The guest's own resets (a reboot it asked for) of a board since a host time. */
const rebootsOf = (slot: number, since: number): number[] =>
  box
    .board(slot)
    .eventsOf('RESET', since)
    .filter((e) => (e.data as { guest?: boolean } | undefined)?.guest === true)
    .map((e) => e.atMs);

describe('a QEMU box of four boards booted through U-Boot', () => {
  it(
    'boots every board from its first root slot, each as its own slot, and has them all up',
    async () => {
      for (const b of box.boards) {
        // U-Boot's boot script, reading the board's own environment bank.
        await b.console.expect(/skyminer: booting root slot A/, BOARD_UP_MS);
        await b.console.expect(new RegExp(`board: slot ${b.slot}, role (manager|board)`), BOARD_UP_MS);
      }
      await loginManager(box, CONSOLE_PASSWORD);
      await untilBoards('every board up', allUp, BOARD_UP_MS);
    },
    BOARD_UP_MS * 2 + 120_000,
  );

  it(
    'updates the boards one at a time, a worker first and the manager last, each rebooting into its new slot while the others stay up',
    async () => {
      const m = box.manager;
      await openShell(m);
      await m.console.shell('mkdir -p /mnt/stick; mount -o ro -t ext4 /dev/vdb /mnt/stick', 120_000);
      await closeShell(m);
      await untilBoards('every board up and healthy', allHealthy, BOARD_UP_MS);
      const startedAt = Date.now();
      for (const b of box.boards) consoleAtStart.set(b.slot, b.console.output.length);
      const answer = await managerCommand(box, `update /mnt/stick/${BUNDLE}`, 600_000);
      expect(answer).toMatch(/progress: update status/);

      // Until the manager's own turn: the workers, one by one, with every other board up at each look.
      const looks: { rollout: Rollout; boards: BoardReport[] }[] = [];
      let eventsBefore: EventReport[] = [];
      for (;;) {
        const rollout = await updateStatus();
        expect(rollout, 'a rollout under way').not.toBeNull();
        if (rollout!.result)
          throw new Error(
            `the rollout ended before the manager's turn: ${JSON.stringify(rollout)}; ${box.describe()}; ` +
              `events: ${JSON.stringify(await eventsJson(box).catch(() => []))}`,
          );
        const manager = rollout!.boards.find((b) => b.board === 1)!;
        // The manager installs for minutes before its reboot: the last look, while its console still answers.
        if (manager.phase === 'installing') {
          eventsBefore = await eventsJson(box);
          break;
        }
        looks.push({ rollout: rollout!, boards: await boardsJson(box) });
        if (Date.now() - startedAt > ROLLOUT_MS)
          throw new Error(
            `the rollout did not reach the manager: ${JSON.stringify(rollout)}; ${box.describe()}`,
          );
        await sleep(5000);
      }
      for (const look of looks) {
        // A board may be down only while it is the one being taken into its new slot (the look at the rollout
        // comes first, so a board it saw installed may be rebooting by the look at the boards).
        const taken = look.rollout.boards
          .filter((b) => b.phase === 'installed' || b.phase === 'rebooting' || b.phase === 'committing')
          .map((b) => b.board);
        expect(taken.length, JSON.stringify(look.rollout.boards)).toBeLessThanOrEqual(1);
        const down = look.boards.filter((b) => b.status !== 'up').map((b) => b.board);
        for (const n of down) expect(taken, `board ${n} down at ${JSON.stringify(look.boards)}`).toContain(n);
      }
      // Each worker was seen taken down by the looks, so the looks spanned the workers' turns.
      const seenTaken = new Set(
        looks.flatMap((l) => l.rollout.boards.filter((b) => b.phase === 'rebooting').map((b) => b.board)),
      );
      expect([...seenTaken].sort()).toEqual(WORKERS);

      // The manager reboots into its new slot; its lines drop, and the workers with them until it is back.
      await m.console.expect(/skyminer: booting root slot B/, 300_000);
      await loginManager(box, CONSOLE_PASSWORD, BOARD_UP_MS);
      let rollout: Rollout | null = null;
      for (;;) {
        rollout = await updateStatus();
        if (rollout?.result) break;
        if (Date.now() - startedAt > ROLLOUT_MS)
          throw new Error(`the rollout did not end: ${JSON.stringify(rollout)}; ${box.describe()}`);
        await sleep(5000);
      }
      expect(rollout!.result, (await managerCommand(box, 'update status')).trim()).toMatchObject({
        kind: 'done',
      });
      expect(rollout!.boards.map((b) => [b.board, b.phase, b.from])).toEqual([
        [2, 'done', '0.1.0'],
        [3, 'done', '0.1.0'],
        [4, 'done', '0.1.0'],
        [1, 'done', '0.1.0'],
      ]);

      // QEMU's account: each worker asked for one reset before the manager's turn, in order, the manager last.
      const managerReboot = rebootsOf(1, startedAt);
      expect(managerReboot).toHaveLength(1);
      const workerReboots = WORKERS.map((n) => rebootsOf(n, startedAt).filter((t) => t < managerReboot[0]!));
      for (const [i, r] of workerReboots.entries()) expect(r, `board ${WORKERS[i]} reboots`).toHaveLength(1);
      const times = [...workerReboots.map((r) => r[0]!), managerReboot[0]!];
      expect([...times].sort((a, b) => a - b)).toEqual(times);

      // The supervisor's account, in its own clock: each board ordered only once the one before had committed.
      const steps = eventsBefore
        .filter((e) => /^update-(ordered|installed|committed)$/.test(e.event))
        .map((e) => `${e.board} ${e.event}`);
      expect(steps).toEqual(
        WORKERS.flatMap((n) => [
          `${n} update-ordered`,
          `${n} update-installed`,
          `${n} update-committed`,
        ]).concat(['1 update-ordered']),
      );

      // Every board is back up, and U-Boot booted only the new slot of each since the update began: for the
      // workers, the trial boot and the boot after the manager's reboot cut their power, so the new slot is the
      // committed one (an uncommitted try is not booted twice).
      await untilBoards('every board up after the update', allUp, BOARD_UP_MS);
      for (const b of box.boards) {
        const slots = [...b.console.output.slice(consoleAtStart.get(b.slot)).matchAll(SLOT_BOOTED)];
        expect(
          slots.map((x) => x[1]),
          `board ${b.slot}: slots U-Boot booted since the update began`,
        ).toEqual(b.slot === 1 ? ['B'] : ['B', 'B']);
      }
      const status = await managerCommand(box, 'update status');
      console.log(`box update: ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n${status.trim()}`);
    },
    ROLLOUT_MS + 2 * BOARD_UP_MS,
  );
});
