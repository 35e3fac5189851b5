import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSkyminer } from '../helpers/skyminer.js';

const fixture = (name: string) => new URL(`../fixtures/scenarios/${name}`, import.meta.url).pathname;

describe('skyminer sim --scenario', () => {
  it("replays a scenario's faults for its own duration and writes the supervisor's events", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-scenario-'));
    const events = join(dir, 'events.jsonl');
    const r = await runSkyminer([
      'sim',
      '--headless',
      '--scenario',
      fixture('power-loss-quick.json'),
      '--events',
      events,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; board: number; event: string });
    for (const l of lines) {
      expect(typeof l.t).toBe('number');
      expect(l.board).toBeGreaterThanOrEqual(0);
    }
    expect(lines.find((l) => l.event === 'fault')).toEqual({
      t: expect.any(Number),
      board: 0,
      event: 'fault',
      kind: 'power-loss',
      for_s: 0.5,
    });
    // Each board comes up twice: at start and after the power returns.
    for (const board of [1, 2, 3, 4])
      expect(lines.filter((l) => l.board === board && l.event === 'up')).toHaveLength(2);
  });

  it('refuses a scenario file that is not valid, in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-scenario-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"faults":[{"at_s":1,"board":2,"kind":"hang","for_s":3}]}');
    const r = await runSkyminer(['sim', '--headless', '--scenario', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`skyminer: ${bad}: faults.0: Unrecognized key: "for_s"\n`);
  });
});
