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
  it('sets the reward address through the control socket and shows per board whether it took', async () => {
    const address = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
    const board = (n: number, status: string, error: string | null = null) => ({
      board: n, pk: null, online: true, uptime_today_pct: 100, on_track: true, reasons: [], rx_bps: null,
      tx_bps: null, version: 'v1.3.28', version_standing: 'meets', warnings: [],
      reward_address: status === 'set' ? address : null, reward_address_status: status, reward_address_error: error,
    }); // prettier-ignore
    const rewards = {
      boards: [board(1, 'set'), board(2, 'failed', 'HTTP 500: rpc timeout'), board(3, 'unreachable')],
      box: {
        sky_per_hour_est: 0, sky_per_day_est: 0, balance_sky: null, coin_hours: null, last_payout_sky: null,
        stale: false, min_version: 'v1.3.26', min_version_from: null, reward_address: address,
      },
    }; // prettier-ignore
    const control = fakeControl({ 'reward-address': rewards });
    const r = await run(`rewards address ${address}`, control);
    expect(control.asked).toEqual([{ method: 'reward-address', address }]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(2, 5)).toEqual([
      `Reward address: ${address}`,
      '  set on board 1 · failed on board 2 · not listed by the hypervisor: board 3',
      '  board 2: HTTP 500: rpc timeout',
    ]);
  });

  it("shows every board's visor and where the hypervisor UI is", async () => {
    const visor = (board: number, running: boolean) => ({
      board, local_ip: `192.168.0.${board + 1}`, running, pk: `02${'ab'.repeat(32)}`, version: 'v1.3.28',
      dmsg_connected: running, dmsg_rtt_ms: running ? 1.25 : null, services_health: running ? 'connecting' : null,
      uptime_s: running ? 3725 : null, reward_address: null,
    }); // prettier-ignore
    const control = fakeControl({
      skywire: {
        hypervisor_ui: 'http://192.168.0.2:8000',
        hypervisor: { ok: true, stale: false, age_s: 3, error: null },
        visors: [visor(1, true), visor(2, false)],
      },
    });
    const r = await run('skywire', control);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'Hypervisor UI: http://192.168.0.2:8000',
      'BOARD  RUNNING  VERSION  DMSG    RTT  SERVICES    UPTIME  KEY',
      '    1  yes      v1.3.28  yes   1.3ms  connecting  1h 02m  02ababababa…',
      '    2  no       v1.3.28  -         -  -                -  02ababababa…',
      'not listed by the hypervisor: board 2 (visor stopped or not on dmsg)',
    ]);
  });

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
