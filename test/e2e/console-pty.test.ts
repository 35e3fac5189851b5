import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSession } from '../helpers/pty-session.js';
import { startSimProcess, type SimProcess } from '../helpers/sim-process.js';

const PASSWORD = 'horse battery staple';
let sim: SimProcess;
const sessions: ConsoleSession[] = [];

beforeAll(async () => {
  sim = await startSimProcess(['--console-password', PASSWORD]);
}, 30_000);
afterAll(async () => {
  expect(await sim.stop()).toBe(0);
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

function open(extra: string[] = [], stateDir = sim.dir): ConsoleSession {
  const s = new ConsoleSession(['--control', sim.control, '--state-dir', stateDir, ...extra]);
  sessions.push(s);
  return s;
}

describe('the console in a terminal', () => {
  it('refuses a wrong password, makes the next attempt wait, then lets the owner in', async () => {
    const c = open();
    await c.expect('password: ');
    await c.type('not the password\r');
    await c.expect('login incorrect; next attempt in 1 s');
    const refusedAt = Date.now();
    await c.type('status\r'); // typed during the wait: thrown away, never a command or a password
    await c.expect('password: ');
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
    expect(c.recent).not.toContain('status');
    await c.type(PASSWORD + '\r');
    await c.expect('type help for the commands');
    await c.expect('skyminer> ');
    expect(c.text).not.toContain(PASSWORD); // a password is never echoed
  });

  it('runs each read command', async () => {
    const c = open();
    await c.login(PASSWORD);
    expect(await c.run('status')).toMatch(/^Skyminer: 8 boards · 8 up\nDisks: \d+ · .*\nRewards: .*\n$/);
    const boards = await c.run('boards');
    expect(boards.split('\n')[0]).toBe('BOARD  ROLE     STATUS  FOR  UPTIME  HEALTH');
    expect(boards).toMatch(/^ {4}8 {2}worker {3}up/m);
    const json = JSON.parse(await c.run('boards --json')) as { board: number }[];
    expect(json.map((b) => b.board)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await c.run('board 2')).toMatch(/^board 2 \(worker\): up for \d+s\n {2}uptime \d+s · health ok\n/);
    expect(await c.run('disks')).toMatch(/^BOARD/);
    expect(await c.run('rewards')).toMatch(/SKY/);
    expect(await c.run('panel')).not.toMatch(/^error/);
    expect(await c.run('events --board 2')).toMatch(/board 2 {3}power-on\n.*board 2 {3}up {2}boot_id=/);
    expect(await c.run('config')).toContain('[box]\nboards = 8\n');
    expect(await c.run('help')).toContain(
      "  attach <n>                      a shell on board n over the box's network\n",
    );
    expect(await c.run('help board')).toContain('usage: board <n> [on|off|reset|cycle|release]\n');
    expect(await c.run('board 12')).toBe('error: no board 12; boards are 1 to 8\n');
    expect(await c.run('reboot')).toMatch(/^error: unknown command "reboot"; commands: status, /);
  });

  it('asks before resetting a board: a refusal leaves it alone, yes resets it and the log names the console', async () => {
    const c = open();
    await c.login(PASSWORD);
    await c.type('board 3 reset\r');
    await c.expect('Reset board 3? It restarts at once. [y/N] ');
    expect(await c.run('n')).toBe('error: board 3 reset: not done\n');
    await c.type('board 3 reset\r');
    await c.expect('[y/N] ');
    expect(await c.run('y')).toBe('board 3 reset\n');
    const log = async () =>
      (await readFile(sim.events, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const deadline = Date.now() + 5000;
    // After the reset pulse the board boots again and is seen up with a new boot id.
    const backUp = (es: Record<string, unknown>[]) =>
      es.findIndex(
        (e, i) => e.board === 3 && e.event === 'up' && es.slice(0, i).some((o) => o.event === 'operator'),
      );
    let events = await log();
    while (backUp(events) < 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      events = await log();
    }
    const operator = events.filter((e) => e.board === 3 && e.event === 'operator');
    expect(operator).toHaveLength(1); // the refused one never reached the supervisor
    expect(operator[0]).toMatchObject({
      operation: 'reset',
      by: expect.stringMatching(/^uid=\d+ pid=\d+ \(console:pts\/\d+\)$/),
    });
    expect(backUp(events)).toBeGreaterThan(events.indexOf(operator[0]!));
    // The answer to the question is not a command to recall.
    await c.type('\x1b[A');
    await c.expect('board 3 reset');
  });

  it('cancels with Ctrl-C and never exits on it', async () => {
    const c = open();
    await c.expect('password: ');
    c.send('\x03');
    await c.expect('^C');
    await c.login(PASSWORD);
    await c.type('events --follow');
    await c.type('\r');
    await c.expect('(following; Ctrl-C stops)');
    c.send('\x03');
    await c.expect('skyminer> ');
    await c.type('boards half-typed');
    c.send('\x03');
    await c.expect('skyminer> ');
    expect(await c.run('status')).toContain('8 up');
    c.send('\x1a'); // Ctrl-Z does not stop it either
    expect(await c.run('status')).toContain('8 up');
    c.send('\x1c'); // nor Ctrl-\, which is only a character in the line
    expect(await c.run('status')).toBe('error: control character "\\u001c" in the line; type plain text\n');
    expect(c.exit).toBeNull();
  });

  it('completes commands, board numbers and operations with Tab', async () => {
    const c = open();
    await c.login(PASSWORD);
    await c.type('sta\t');
    await c.expect('status');
    await c.type('\r');
    await c.expect('8 up');
    await c.expect('skyminer> ');
    await c.type('attach \t\t');
    await c.expect(/1\s+2\s+3\s+4\s+5\s+6\s+7\s+8/);
    c.send('\x03');
    await c.expect('skyminer> ');
    c.send('board 5 re\t\t'); // arriving in one chunk, as over a slow serial line: each Tab still completes
    await c.expect(/reset\s+release/);
    await c.type('s\t');
    await c.expect('reset');
    await c.type('\r');
    await c.expect('Reset board 5?');
    c.send('\x03');
    await c.expect('error: board 5 reset: not done');
  });

  it('opens a login shell, and a shell standing in for board 3, and comes back', async () => {
    const c = open();
    await c.login(PASSWORD);
    await c.type('shell\r');
    await c.expect(/[#$] $/); // the shell's own prompt: keys typed before it would go to the console
    await c.type('echo one-$((40+2))\r');
    await c.expect('one-42');
    await c.type('exit\r');
    await c.expect('skyminer> ');
    await c.type('attach 3\r');
    await c.expect('simulator: board 3 has no host of its own, so this is a local shell standing in for ssh');
    await c.expect(/[#$] $/);
    await c.type('echo on-board-$SKYMINER_BOARD\r');
    await c.expect('on-board-3');
    await c.type('exit\r');
    await c.expect('skyminer> ');
    expect(await c.run('status')).toContain('8 up');
  });

  it('locks itself after the configured idle time and on logout', async () => {
    const c = open(['--idle-lock', '1']);
    await c.login(PASSWORD);
    await c.expect('locked after 1 s without typing', 4000);
    await c.expect('password: ');
    await c.type('status\r'); // a command typed at a locked console is a wrong password, not a command
    await c.expect('login incorrect');
    expect(c.recent).not.toContain('8 up');
    await c.login(PASSWORD);
    await c.type('logout\r');
    await c.expect('console locked');
    await c.expect('password: ');
  });

  it('tells the owner when the supervisor is not running, and keeps going', async () => {
    const c = new ConsoleSession(['--control', join(sim.dir, 'absent.sock'), '--state-dir', sim.dir]);
    sessions.push(c);
    await c.login(PASSWORD);
    expect(await c.run('boards')).toBe(
      `error: supervisor not running: no control socket at ${join(sim.dir, 'absent.sock')}\n`,
    );
    expect(await c.run('help logout')).toContain('usage: logout');
  });
});

describe('the console login on a fresh box', () => {
  it('makes the owner choose a password at first boot and stores only its hash, mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'first-boot-'));
    const c = open([], dir);
    await c.expect('No console password is set on this box. Choose one now.');
    await c.expect('rules: 8 to 256 characters, no control characters');
    await c.type('short\r');
    await c.expect('not accepted: too short: at least 8 characters');
    await c.type('first choice\r');
    await c.type('second choice\r');
    await c.expect('the two entries differ; nothing was saved');
    await c.type('my console password\r');
    await c.type('my console password\r');
    await c.expect(`password saved in ${join(dir, 'console-password')}`);
    await c.expect('skyminer> ');
    const file = join(dir, 'console-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^scrypt\$16384\$8\$1\$[^$]+\$[^$]+\n$/);
    await c.type('logout\r');
    await c.login('my console password');
  });

  it('stays locked when the password file switches login off, and says how to reset it with the card', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'no-login-'));
    await writeFile(join(dir, 'console-password'), '!\n');
    const c = open([], dir);
    await c.expect('console locked: console login is switched off; with the card in hand');
    await c.type('status\r');
    await c.expect('skyminer/console-password-reset on its boot partition');
    expect(c.recent).not.toMatch(/skyminer>|8 up/);
  });

  it('offers no first password while its config cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bad-config-'));
    const config = join(dir, 'skyminer.conf');
    await writeFile(config, '[box\nboards = 4\n');
    const s = new ConsoleSession(['--control', sim.control, '--config', config]);
    sessions.push(s);
    await s.expect('console locked: ');
    await s.expect('no password can be chosen until it is fixed');
    await s.type('a password of mine\r');
    await s.expect('console locked: ');
    expect(s.text).not.toMatch(/Choose one now|new password:|skyminer>/);
  });
});
