import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { pngToFramebuffer } from '../../drivers/ssd1306/framebuffer.js';
import type { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';
import { shiftFrame, shiftOrbit } from '../../firmware/panel/burn-in.js';
import { renderOverview } from '../../firmware/panel/pages/overview.js';
import { panelInputFromView } from '../../firmware/panel/panel-input.js';
import type { BoxView } from '../../firmware/supervisor/view.js';
import { runSkyminer } from '../helpers/skyminer.js';

function allUp(n: number): BoxView {
  return {
    at: 0,
    boards: Array.from({ length: n }, (_, i) => ({
      board: i + 1,
      role: i === 0 ? ('manager' as const) : ('worker' as const),
      status: 'up' as const,
      forS: 0,
    })),
  };
}

/**
 * The overview's board cells (its top 20 rows; the figures below them move with the simulated load), wherever
 * the burn-in shift has put the picture.
 */
function sameCells(picture: Framebuffer, page: Framebuffer): boolean {
  return shiftOrbit(2).some(({ dx, dy }) => {
    const shifted = shiftFrame(page, dx, dy);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < picture.width; x++)
        if (picture.getPixel(x, y) !== shifted.getPixel(x, y)) return false;
    return true;
  });
}

describe('skyminer sim --headless', () => {
  it('brings 8 boards up, writes the panel picture and a trace that rebuilds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const png = join(dir, 'panel.png');
    const trace = join(dir, 'trace.txt');
    const events = join(dir, 'events.jsonl');
    const r = await runSkyminer([
      'sim', '--headless', '--duration', '2', '--boot-ms', '150', '--power-gap-ms', '50',
      '--snapshot', png, '--i2c-trace', trace, '--events', events,
    ]); // prettier-ignore
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const picture = pngToFramebuffer(await readFile(png));
    expect(picture.width).toBe(128);
    expect(picture.height).toBe(64);
    expect(sameCells(picture, renderOverview(panelInputFromView(allUp(8))))).toBe(true);

    // Replaying every traced transfer into a fresh controller model must give the same picture.
    const model = new Ssd1306Model();
    const lines = (await readFile(trace, 'utf8')).trim().split('\n');
    let lastMs = 0;
    for (const line of lines) {
      const [ms, address, bytes] = line.split(' ');
      expect(address).toBe('0x3c');
      expect(Number(ms)).toBeGreaterThanOrEqual(lastMs);
      lastMs = Number(ms);
      model.write(Buffer.from(bytes!, 'hex'));
    }
    expect(model.picture().equals(picture)).toBe(true);

    const ups = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { board: number; event: string })
      .filter((e) => e.event === 'up')
      .map((e) => e.board)
      .sort((a, b) => a - b);
    expect(ups).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('runs a 4-board box', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const png = join(dir, 'panel.png');
    const r = await runSkyminer(['sim', '--headless', '--boards', '4', '--duration', '1', '--boot-ms', '100',
      '--power-gap-ms', '20', '--snapshot', png]); // prettier-ignore
    expect(r.code).toBe(0);
    const picture = pngToFramebuffer(await readFile(png));
    expect(sameCells(picture, renderOverview(panelInputFromView(allUp(4))))).toBe(true);
  });

  it('snapshots any page with --page, and refuses a page that does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const png = join(dir, 'board.png');
    const r = await runSkyminer(['sim', '--headless', '--boards', '4', '--duration', '1', '--boot-ms', '100',
      '--power-gap-ms', '20', '--page', 'board:2', '--snapshot', png]); // prettier-ignore
    expect(r.code).toBe(0);
    const picture = pngToFramebuffer(await readFile(png));
    const title = renderOverview(panelInputFromView(allUp(4)));
    expect(picture.litCount()).toBeGreaterThan(0);
    expect(sameCells(picture, title)).toBe(false); // a board page, not the overview
    const bad = await runSkyminer(['sim', '--headless', '--duration', '1', '--page', 'board:9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^skyminer: --page: no page "board:9"; pages are overview, board:1, /);
  });

  it('refuses a control socket in use, a file as --control or --state-dir and a bad --snapshot at once, in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-'));
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a socket\n');
    const inUse = join(dir, 'control.sock');
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(inUse, resolve));
    const sim = (...extra: string[]) =>
      // A run that started would last a minute: each refusal must come well before.
      runSkyminer(
        ['sim', '--headless', '--boards', '4', '--duration', '60', '--boot-ms', '100', ...extra],
        15_000,
      );
    try {
      const cases: [string[], string][] = [
        [['--control', inUse], `--control: ${inUse} is in use: another supervisor is serving it`],
        [['--control', file], `--control: ${file} is in the way and is not a socket`],
        [['--state-dir', file], `--state-dir: ${file} is not a directory`],
        [['--snapshot', join(dir, 'missing', 'p.png')], `--snapshot: cannot write ${join(dir, 'missing', 'p.png')}: no such directory`],
        [['--snapshot', dir], `--snapshot: ${dir} is a directory`],
      ]; // prettier-ignore
      for (const [extra, message] of cases)
        expect(await sim(...extra)).toEqual({ code: 2, stdout: '', stderr: `skyminer: ${message}\n` });
      // A socket that cannot be made at all (its directory is a file) is found only when the run starts.
      const late = await sim('--control', join(file, 'control.sock'));
      expect(late.code).toBe(2);
      expect(late.stderr.trimEnd().split('\n').at(-1)).toBe(
        `skyminer: --control: cannot serve a control socket at ${join(file, 'control.sock')}`,
      );
    } finally {
      server.close();
    }
  });

  it('refuses a board count that is not a multiple of 4, with one line and exit code 2', async () => {
    const r = await runSkyminer(['sim', '--headless', '--boards', '6', '--duration', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'skyminer: --boards: a Skyminer has a multiple of 4 boards (4, 8, 12, ...), got 6\n',
    );
  });

  it('refuses unknown options and commands with one line', async () => {
    const a = await runSkyminer(['sim', '--frobnicate']);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/frobnicate/);
    const b = await runSkyminer(['dance']);
    expect(b.code).toBe(2);
    expect(b.stderr).toBe(
      'skyminer: unknown command "dance"; commands: sim, supervisor, agent, console, update, visor-update, status, boards, board, disks, rewards, skywire, events, panel, config, shell, attach (see skyminer help)\n',
    );
  });

  it('refuses a bad config file for a device role, naming the key, and exits non-zero', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conf-'));
    const conf = join(dir, 'skyminer.conf');
    await (await import('node:fs/promises')).writeFile(conf, '[panel]\naddress = "0x3c"\n');
    const r = await runSkyminer(['supervisor', '--config', conf]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^skyminer: .*skyminer\.conf: panel\.address: .*expected number/);
  });
});
