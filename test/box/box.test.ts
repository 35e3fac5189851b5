// The whole box under QEMU (make test-box): the emulator image built once, four boards booted from copies of it,
// the manager's GPIO lines wired to the workers. What happened is read from QEMU (line edges, run states,
// registers) and from the boards' consoles, never from the supervisor's word alone. One box serves every test
// in order, as a box on a bench would: first power-on, a supervisor restart, then a power cut.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../firmware/console/password.js';
import { buildImage, repoRoot } from '../../images/build.js';
import { Box, linesOf, managerShell } from './box.js';

const BOARDS = 4;
const WORKERS = [2, 3, 4];
const POWER_LINES = WORKERS.map((n) => linesOf(n).power);
const RESET_LINES = WORKERS.map((n) => linesOf(n).reset);
// The image's supervisor config (the schema's default gap).
const POWER_ON_GAP_MS = 1000;
// Under TCG on a loaded two-core host a Node start takes tens of seconds.
const MANAGER_UP_MS = 300_000;

const CONSOLE_PASSWORD = 'skyminer-console-test';

let box: Box;

beforeAll(async () => {
  const built = await buildImage({
    profile: 'qemu-virt-arm64',
    repo: repoRoot(),
    outDir: await mkdtemp(join(tmpdir(), 'box-image-')),
    cacheDir: join(repoRoot(), '.cache', 'images'),
    consolePasswordHash: await hashPassword(CONSOLE_PASSWORD, { N: 4096, r: 8, p: 1 }),
    compress: false,
    epoch: 1_700_000_000,
  });
  box = await Box.start({ image: built.image, boards: BOARDS });
}, 900_000);

afterAll(async () => {
  await box?.close();
});

/** Waits until `check` holds, polling; the message says what was awaited. */
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; edges: ${JSON.stringify(box.edges)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The power lines rose once each since `since`, in slot order, at least a power-on gap apart. */
function expectStaggeredPowerOn(since: number): void {
  const rises = POWER_LINES.map((l) => box.edgesOf(l, since).filter((e) => e.level === 1));
  for (const r of rises) expect(r).toHaveLength(1);
  for (let i = 1; i < rises.length; i++) {
    const gap = rises[i]![0]!.atMs - rises[i - 1]![0]!.atMs;
    // The gap is 1 s in the guest's clock; a busy guest and the host reading QEMU's trace blur it by some ms.
    expect(gap, `gap before board ${WORKERS[i]}`).toBeGreaterThanOrEqual(POWER_ON_GAP_MS - 250);
  }
}

describe('a QEMU box of four boards booted from the emulator image', () => {
  it('switches the workers on one by one through its power lines, and each boots from its own card', async () => {
    await box.manager.console.expect(/board: slot 1, role manager; supervisor: running/, 120_000);
    await until(
      'every worker power line to go high',
      () => POWER_LINES.every((l) => box.levels[l] === 1),
      MANAGER_UP_MS,
    );
    expectStaggeredPowerOn(0);
    // No reset line moved: a fresh box needs none.
    for (const l of RESET_LINES) expect(box.edgesOf(l)).toEqual([]);
    // QEMU's own registers agree: the power lines are outputs driven high, the reset lines outputs held low.
    const regs = await box.readLineRegisters();
    for (const l of POWER_LINES) expect([(regs.dir >> l) & 1, (regs.data >> l) & 1]).toEqual([1, 1]);
    for (const l of RESET_LINES) expect([(regs.dir >> l) & 1, (regs.data >> l) & 1]).toEqual([1, 0]);
    // Every worker's machine runs, started by its line, and boots as its own slot.
    for (const n of WORKERS) {
      const b = box.board(n);
      expect(b.powered).toBe(true);
      expect(b.history[0]!.kind).toBe('on');
      await b.console.expect(new RegExp(`board: slot ${n}, role board`), 300_000);
    }
    expect(box.wiringErrors).toEqual([]);
  }, 700_000);

  it('moves no worker line when the supervisor is restarted', async () => {
    const c = box.manager.console;
    await managerShell(box, CONSOLE_PASSWORD);
    const before = await box.readLineRegisters();
    const stoppedAt = Date.now();
    // Stopped as its service stops it (SIGTERM); the service starts it again a second later.
    await c.shell('kill -TERM $(cat /run/skyminer/skyminer-supervisor.pid)');
    const deadline = Date.now() + MANAGER_UP_MS;
    let watching = 0;
    while (watching < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5000));
      watching = Number((await c.shell('logread | grep -c "supervisor: watching"', 60_000)).trim());
    }
    expect(watching).toBe(2);
    // A few seconds more for anything it might do after start (its power-on plan runs at once).
    await new Promise((r) => setTimeout(r, 5000));
    expect(box.edges.filter((e) => e.atMs >= stoppedAt)).toEqual([]);
    expect(await box.readLineRegisters()).toEqual(before);
    for (const n of WORKERS) expect(box.board(n).history.filter((h) => h.atMs >= stoppedAt)).toEqual([]);
  }, 400_000);

  it('after a power cut to the whole box, switches the workers on again one by one', async () => {
    await box.powerLoss();
    for (const b of box.boards) expect(b.powered).toBe(false);
    const restoredAt = Date.now();
    await box.powerOnManager();
    await until(
      'every worker power line to go high again',
      () => POWER_LINES.every((l) => box.edgesOf(l, restoredAt).some((e) => e.level === 1)),
      MANAGER_UP_MS,
    );
    expectStaggeredPowerOn(restoredAt);
    for (const n of WORKERS) expect(box.board(n).powered).toBe(true);
    expect(box.wiringErrors).toEqual([]);
  }, 400_000);
});
