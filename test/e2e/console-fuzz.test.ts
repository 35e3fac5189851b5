import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSession } from '../helpers/pty-session.js';
import { startSimProcess, type SimProcess } from '../helpers/sim-process.js';

const PASSWORD = 'fuzzing is fun';
let sim: SimProcess;
beforeAll(async () => {
  sim = await startSimProcess(['--console-password', PASSWORD], 4);
}, 30_000);
afterAll(async () => {
  expect(await sim.stop()).toBe(0);
});

/** A small seeded generator, so that a failing run can be repeated exactly. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function hostileLines(seed: number): string[] {
  const random = generator(seed);
  const lines = [
    'A'.repeat(20_000),
    'status ' + 'x '.repeat(3000),
    '\x1b[2J\x1b[H',
    '\x1b]0;owned\x07status',
    '\x1b[31mboards\x1b[0m',
    '\x1bP+q544e\x1b\\',
    '\x1b[999999999999999999999A',
    '\u009b31m',
    '"unbalanced',
    "board '3",
    'board 3 reset "',
    'trailing backslash \\',
    '\x00\x00\x00',
    '\u{fffd}\u{10ffff}\u{d7ff}',
    'board 99999999999999999999',
    'board -1 reset',
    'events --board=',
    '--json',
    'help help help',
    'config check /dev/zero',
    'config check /',
    'panel snapshot',
    'board 2 \'on\'x"off"',
    '%s%s%s%n',
    '${IFS}$(reboot)`reboot`',
  ];
  for (let i = 0; i < 15; i++) {
    // Random bytes as a terminal might deliver them: anything but Ctrl-C and Enter, which the console acts on.
    const bytes = Buffer.from(
      Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)).map((b) =>
        b === 0x03 || b === 0x0d || b === 0x0a ? 0x20 : b,
      ),
    );
    lines.push(bytes.toString('latin1'));
  }
  return lines;
}

describe('the console under hostile input', () => {
  it('answers every random or hostile line and stays alive and logged in', async () => {
    const c = new ConsoleSession(['--control', sim.control, '--state-dir', sim.dir]);
    try {
      await c.login(PASSWORD);
      const lines = hostileLines(Number(process.env.FUZZ_SEED ?? 7));
      for (const [i, line] of lines.entries()) {
        c.send(line);
        c.send('\r');
        // Whatever state the line left the editor in, Ctrl-C gives a clean prompt; then a marker must answer.
        await new Promise((r) => setTimeout(r, 30));
        c.send('\x03');
        await c.type(`marker-${i}\r`);
        await c.expect(`error: unknown command "marker-${i}"`, 8000);
        await c.expect('skyminer> ');
      }
      expect(c.exit).toBeNull();
      expect(c.text).not.toContain('password: ' + 'skyminer'); // never fell back to the login
      const boards = await c.run('boards');
      expect(boards.split('\n')[0]).toBe('BOARD  ROLE     STATUS  FOR  UPTIME  HEALTH');
      // Every refusal was one line: no stack trace ever reached the screen.
      expect(c.text).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    } finally {
      await c.close();
    }
  }, 60_000);
});
