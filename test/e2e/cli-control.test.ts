import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSkyminer, SKYMINER } from '../helpers/skyminer.js';
import { startSimProcess, type SimProcess } from '../helpers/sim-process.js';

let sim: SimProcess;
beforeAll(async () => {
  sim = await startSimProcess();
}, 30_000);
afterAll(async () => {
  expect(await sim.stop()).toBe(0);
});

const cli = (...args: string[]) => runSkyminer(['--control', sim.control, ...args]);
const oneLine = (s: string) => expect(s.trimEnd().split('\n')).toHaveLength(1);

describe('skyminer CLI against a running simulator', () => {
  it('prints the boards as a table within 80 columns, and as stable JSON', async () => {
    const table = await cli('boards');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('BOARD  ROLE     STATUS  FOR  UPTIME  HEALTH');
    expect(lines).toHaveLength(9);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[3]).toMatch(/^ {4}3 {2}worker {3}up +\d+s +\d+s {2}ok$/);

    const json = await cli('boards', '--json');
    const boards = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(boards.map((b) => Object.keys(b))).toEqual(
      Array(8).fill([
        'board',
        'role',
        'status',
        'for_s',
        'uptime_s',
        'healthy',
        'failing',
        'figures',
        'inventory',
        'visor',
      ]),
    );
    expect(boards.map((b) => b.status)).toEqual(Array(8).fill('up'));
    // What each board is, from the inventory its agent read at start (emulated boards answer as systeminformation).
    const inventory = (b: Record<string, unknown>) => b.inventory as Record<string, unknown> | null;
    // Inventory and figures arrive with the first heartbeats, which a loaded machine can delay past the first answer.
    const memTotal = (b: Record<string, unknown>) =>
      (b.figures as Record<string, unknown> | null)?.mem_total_bytes;
    const settled = (b: Record<string, unknown>) => inventory(b) && typeof memTotal(b) === 'number';
    for (let i = 0; i < 300 && !boards.every(settled); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      boards.splice(
        0,
        8,
        ...(JSON.parse((await cli('boards', '--json')).stdout) as Record<string, unknown>[]),
      );
    }
    expect(inventory(boards[2]!)).toMatchObject({
      serial: 'EMU3',
      soc: 'allwinner,sun50i-h5',
      os: 'Alpine Linux 3.20',
    });
    expect(boards[2]!.figures).toMatchObject({ mem_total_bytes: expect.any(Number) });
  });

  it('sums the box up: boards, disks and the rewards estimate', async () => {
    const r = await cli('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Skyminer: 8 boards · 8 up\nDisks: \d+ · .*\nRewards: .*\n$/);
    const j = JSON.parse((await cli('status', '--json')).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({
      boards: 8,
      up: 8,
      failed: 0,
      quarantined: 0,
      attention: [],
      disks: expect.objectContaining({ failing: 0 }) as unknown, // the count fills in as heartbeats carry the reports
      rewards: expect.objectContaining({ stale: expect.any(Boolean) as unknown }) as unknown,
    });
  });

  it('ends `events --follow` quietly with exit 0 when its reader goes away, as `| head -1` does', async () => {
    const follow = spawn(process.execPath, [SKYMINER, '--control', sim.control, 'events', '--follow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    follow.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(follow, 'exit');
    await once(follow.stdout, 'data');
    follow.stdout.destroy(); // the reader is gone: the next line written meets a closed pipe
    // New events to print: each reset is one.
    for (let i = 0; i < 3 && follow.exitCode === null; i++) await cli('board', '5', 'reset', '--yes');
    const [code] = await exited;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('resets board 3 only with --yes, and the event log names the CLI user as who asked', async () => {
    const refused = await cli('board', '3', 'reset');
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr: 'skyminer: board 3 reset needs confirmation: add --yes\n',
    });
    const done = await cli('board', '3', 'reset', '--yes');
    expect(done).toEqual({ code: 0, stdout: 'board 3 reset\n', stderr: '' });
    const events = JSON.parse((await cli('events', '--board', '3', '--json')).stdout) as Record<
      string,
      unknown
    >[];
    expect(events).toContainEqual(
      expect.objectContaining({
        board: 3,
        event: 'operator',
        operation: 'reset',
        // The CLI process as the kernel knows it, then what the CLI says of itself.
        by: expect.stringMatching(
          new RegExp(`^uid=${process.getuid!()} pid=\\d+ \\(cli:uid=${process.getuid!()}\\)$`),
        ),
      }),
    );
    const text = await cli('events', '--board=3');
    expect(text.stdout).toMatch(/board 3 {3}operator {2}operation=reset by=uid=\d+ pid=\d+ \(cli:uid=\d+\)/);
  });

  it('answers bad input with one line and the usage exit code', async () => {
    const cases: [string[], number, string][] = [
      [['board', '9', 'reset', '--yes'], 2, 'skyminer: no board 9; boards are 1 to 8\n'],
      [['board', 'nine'], 2, 'skyminer: board: expected a board number, got "nine"; usage: board <n> [on|off|reset|cycle|release]\n'],
      [['board', '2', 'explode'], 2, 'skyminer: board: unknown operation "explode"; operations: on, off, reset, cycle, release\n'],
      [['events', '--board', '12'], 2, 'skyminer: no board 12; boards are 1 to 8\n'],
      [['events', '--since', '5'], 2, 'skyminer: events: unknown option "--since"; accepted: --follow, --board, --json\n'],
      [['panel', 'page'], 2, 'skyminer: panel: page needs a page name; usage: panel [page <name>|cycle|snapshot <file>|dim|off|on]\n'],
      [['logout'], 2, 'skyminer: logout: only in the console; this shell is yours to close\n'],
      [['shell'], 2, 'skyminer: shell needs a terminal\n'],
      [['board', '1', 'off', '--yes'], 1, 'skyminer: board 1 has no power or reset line (board 1 is the manager)\n'],
    ]; // prettier-ignore
    for (const [args, code, stderr] of cases) {
      const r = await cli(...args);
      expect({ args, code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({
        args,
        code,
        stderr,
        stdout: '',
      });
    }
    const bad = await runSkyminer(['--control']);
    expect(bad).toMatchObject({
      code: 2,
      stderr: 'skyminer: --control needs the path of the control socket\n',
    });
  });

  it('lists the SATA disks of boards 1 to 4 and the rewards in their stable JSON forms', async () => {
    // Disk reports ride in the heartbeats once each agent has read SMART: give them a moment after start.
    let disks: Record<string, unknown>[] = [];
    for (let i = 0; i < 50 && disks.filter((d) => d.verdict !== 'unknown').length < 4; i++) {
      disks = JSON.parse((await cli('disks', '--json')).stdout) as Record<string, unknown>[];
      if (disks.length < 4) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(disks.map((d) => [d.board, d.disk, d.verdict])).toEqual([1, 2, 3, 4].map((b) => [b, 'sda', 'ok']));
    expect(Object.keys(disks[0]!)).toEqual([
      'board', 'disk', 'model', 'serial', 'size_bytes', 'verdict', 'reasons', 'temperature_c', 'mounted', 'used_pct',
    ]); // prettier-ignore
    const rewards = JSON.parse((await cli('rewards', '--json')).stdout) as { boards: unknown[]; box: object };
    expect(rewards.boards).toHaveLength(8);
    expect(Object.keys(rewards.box)).toEqual([
      'sky_per_hour_est', 'sky_per_day_est', 'balance_sky', 'coin_hours', 'last_payout_sky', 'stale',
      'min_version', 'min_version_from', 'reward_address',
    ]); // prettier-ignore
    const dim = await cli('panel', 'dim');
    expect(dim.code).toBe(0);
  });

  it("sets the reward address on every board's visor and shows each visor through the hypervisor", async () => {
    const address = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
    const bad = await cli('rewards', 'address', `${address.slice(0, -1)}7`);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe(
      'skyminer: rewards address: not a Skycoin address: its checksum does not match (a mistyped character?)\n',
    );
    const set = await cli('rewards', 'address', address, '--json');
    expect(set.code).toBe(0);
    const json = JSON.parse(set.stdout) as {
      boards: Record<string, unknown>[];
      box: Record<string, unknown>;
    };
    expect(json.box.reward_address).toBe(address);
    expect(json.boards.map((b) => [b.reward_address, b.reward_address_status])).toEqual(
      Array(8).fill([address, 'set']),
    );
    expect((await cli('rewards')).stdout).toContain(
      `Reward address: ${address}\n  set on boards 1, 2, 3, 4, 5, 6, 7, 8\n`,
    );
    const skywire = JSON.parse((await cli('skywire', '--json')).stdout) as {
      hypervisor_ui: string;
      visors: Record<string, unknown>[];
    };
    expect(skywire.visors).toHaveLength(8);
    expect(skywire.visors[2]).toMatchObject({
      board: 3,
      running: true,
      version: 'v1.3.28',
      dmsg_connected: true,
      reward_address: address,
    });
    const text = (await cli('skywire')).stdout.split('\n');
    expect(text[0]).toMatch(/^Hypervisor UI: http:\/\//);
    expect(text[1]).toMatch(/^BOARD {2}RUNNING {2}VERSION {2}DMSG +RTT {2}SERVICES +UPTIME {2}KEY$/);
    expect(text[4]).toMatch(
      /^ {4}3 {2}yes {6}v1\.3\.28 {2}yes +[\d.]+ms {2}(healthy|connecting) +\S+ {2}\S+$/,
    );
  });

  it("shows the hypervisor UI's password and changes it on the hypervisor, the rewards side logging in with it", async () => {
    const file = join(sim.dir, 'hypervisor-password');
    expect(await cli('skywire', 'password')).toEqual({
      code: 0,
      stdout: 'hypervisor UI user admin, password Skyminer-sim1\n',
      stderr: '',
    });
    const weak = await cli('skywire', 'password', 'set', 'skywire');
    expect(weak).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'skyminer: skywire password: the password needs an upper-case letter, a lower-case letter, a digit and a symbol\n',
    });
    expect(await readFile(file, 'utf8')).toBe('Skyminer-sim1\n');
    const set = await cli('skywire', 'password', 'set', 'Nouveau-pass2');
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(file, 'utf8')).toBe('Nouveau-pass2\n');
    const shown = JSON.parse((await cli('skywire', 'password', '--json')).stdout) as { password: string };
    expect(shown.password).toBe('Nouveau-pass2');
    // The change ended the rewards service's session: a good read of the hypervisor after it means the service
    // logged in again with the new password.
    const changedAt = Date.now();
    const readSince = async (): Promise<boolean> => {
      const json = JSON.parse((await cli('skywire', '--json')).stdout) as {
        hypervisor: { ok: boolean; age_s: number | null };
      };
      const age = json.hypervisor.age_s;
      return json.hypervisor.ok && age !== null && age + 1 < (Date.now() - changedAt) / 1000;
    };
    let fresh = false;
    for (let i = 0; i < 100 && !fresh; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      fresh = await readSince();
    }
    expect(fresh).toBe(true);
  });

  it('shows the config in force and checks config files', async () => {
    const shown = await cli('config', 'show');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('[box]\nboards = 8\n');
    expect(
      (JSON.parse((await cli('config', '--json')).stdout) as { config: { box: { boards: number } } }).config
        .box.boards,
    ).toBe(8);
    const good = join(sim.dir, 'good.conf');
    const bad = join(sim.dir, 'bad.conf');
    await writeFile(good, '[box]\nboards = 4\n');
    await writeFile(bad, '[panel]\naddress = "0x3c"\n');
    expect(await cli('config', 'check', good)).toEqual({
      code: 0,
      stdout: `${good}: a valid config (4 boards)\n`,
      stderr: '',
    });
    const refused = await cli('config', 'check', bad);
    expect(refused.code).toBe(1);
    oneLine(refused.stderr);
    expect(refused.stderr).toMatch(/^skyminer: .*bad\.conf: panel\.address: .*expected number/);
  });

  it('prints help for one command', async () => {
    const r = await runSkyminer(['help', 'events']);
    expect(r).toEqual({
      code: 0,
      stdout:
        'usage: events [--follow] [--board n]\n  recent events; --follow keeps printing\n  options: --follow, --board, --json\n  Ctrl-C stops --follow.\n',
      stderr: '',
    });
  });

  it('writes the supervisor events it was asked for to the simulator event log', async () => {
    await cli('board', '4', 'release');
    await new Promise((r) => setTimeout(r, 100));
    const log = (await readFile(sim.events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log).toContainEqual(
      expect.objectContaining({ board: 4, event: 'operator', operation: 'release' }),
    );
  });
});

describe('skyminer CLI without a supervisor', () => {
  it('exits 69 with one line when nothing serves the control socket', async () => {
    const r = await runSkyminer(['--control', '/nonexistent/skyminer/control.sock', 'boards']);
    expect(r).toEqual({
      code: 69,
      stdout: '',
      stderr: 'skyminer: supervisor not running: no control socket at /nonexistent/skyminer/control.sock\n',
    });
    const c = await runSkyminer(['status', '--control=/nonexistent/x.sock', '--json']);
    expect(c.code).toBe(69);
  });

  it('still checks a config file, which needs no supervisor', async () => {
    const r = await runSkyminer([
      '--control',
      '/nonexistent/x.sock',
      'config',
      'check',
      '/nonexistent/a.conf',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('skyminer: /nonexistent/a.conf: cannot read (ENOENT)\n');
  });
});
