import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../firmware/console/commands.js';
import { runCommand, type CommandIo } from '../../../firmware/console/run.js';
import { ControlRequestError, type ControlApi } from '../../../firmware/control/client.js';
import type { RequestBody } from '../../../firmware/control/protocol.js';

/** A control API answering from a table, recording each request. */
function fakeControl(
  answers: Partial<Record<RequestBody['method'], unknown>>,
): ControlApi & { asked: RequestBody[] } {
  const asked: RequestBody[] = [];
  return {
    asked,
    async request<T>(body: RequestBody): Promise<T> {
      asked.push(body);
      if (!(body.method in answers))
        throw new ControlRequestError('not-available', `${body.method} is not available on this box`);
      return answers[body.method] as T;
    },
    follow: async () => {},
  };
}

async function run(line: string, control: ControlApi, confirm = false) {
  const parsed = parseCommand(line.split(' '));
  if (!parsed.ok) throw new Error(parsed.error);
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  const io: CommandIo = {
    control,
    print: (t) => void out.push(t),
    error: (t) => void err.push(t),
    by: 'test',
    signal: new AbortController().signal,
    confirm: async (q) => {
      questions.push(q);
      return confirm;
    },
    shell: ['/bin/sh'],
  };
  const code = await runCommand(parsed.command, io);
  return { code, out: out.join('\n'), err: err.join('\n'), questions };
}

const view = {
  at: 0,
  boards: [1, 2].map((board) => ({ board, role: board === 1 ? 'manager' : 'worker', status: 'up', forS: 1 })),
};

describe('commands against a box with every source', () => {
  it('saves the panel picture to a file and pins pages', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const control = fakeControl({ panel: { png_base64: png.toString('base64') } });
    const file = join(await mkdtemp(join(tmpdir(), 'snap-')), 'panel.png');
    const r = await run(`panel snapshot ${file}`, control);
    expect(r).toMatchObject({ code: 0, out: `panel picture saved to ${file} (8 bytes)` });
    expect(await readFile(file)).toEqual(png);
    expect((await run('panel page rewards', control)).out).toBe('panel pinned to page rewards');
    expect(control.asked.at(-1)).toEqual({ method: 'panel', action: 'page', page: 'rewards' });
  });

  it('prints disks, and status counts their verdicts', async () => {
    const disk = {
      board: 2,
      disk: 'sda',
      model: 'M',
      serial: 'S',
      size_bytes: 2e12,
      verdict: 'warning',
      reasons: ['hot'],
      temperature_c: 55,
      mounted: true,
      used_pct: 10,
    };
    const control = fakeControl({ view, disks: [disk] });
    expect((await run('disks', control)).out).toContain('board 2 sda: hot');
    expect(JSON.parse((await run('disks --json', control)).out)).toEqual([disk]);
    expect((await run('status', control)).out).toContain('Disks: 1 · 0 ok · 1 warning');
  });

  it('asks before switching a board off and does nothing when refused', async () => {
    const control = fakeControl({ view, operate: { ok: true, message: 'board 2 switched off' } });
    const refused = await run('board 2 off', control, false);
    expect(refused).toMatchObject({
      code: 1,
      err: 'board 2 off: not done',
      questions: ['Switch board 2 off? This cuts its power.'],
    });
    expect(control.asked.some((b) => b.method === 'operate')).toBe(false);
    const done = await run('board 2 off', control, true);
    expect(done).toMatchObject({ code: 0, out: 'board 2 switched off' });
    expect(control.asked.at(-1)).toEqual({ method: 'operate', board: 2, operation: 'off', by: 'test' });
    expect((await run('board 2 release', control)).questions).toEqual([]); // release cuts nothing: no question
  });
});
