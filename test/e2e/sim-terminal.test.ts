import { spawn } from 'node-pty';
import { describe, expect, it } from 'vitest';
import { SKYMINER } from '../helpers/skyminer.js';

/** Strips colour and cursor sequences so the screen reads as text. */
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('skyminer sim in a terminal', () => {
  it('draws the boards coming up beside the panel and exits cleanly on Ctrl-C', async () => {
    const pty = spawn(process.execPath, [SKYMINER, 'sim', '--boot-ms', '100', '--power-gap-ms', '30'], {
      cols: 120,
      rows: 40,
      env: { ...process.env, TERM: 'xterm-256color' },
    });
    let screen = '';
    pty.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
    const deadline = Date.now() + 10_000;
    const lastFrame = () => plain(screen.slice(screen.lastIndexOf('\x1b[H')));
    // A frame arrives in several chunks: wait for one whose footer (its last line) is in as well.
    const complete = (f: string) => /(?:\s[1-8]\s+up[\s\S]*){8}/.test(f) && f.includes('Ctrl-C exits');
    while (!complete(lastFrame()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const frame = lastFrame();
    for (let n = 1; n <= 8; n++) expect(frame).toMatch(new RegExp(`\\b${n}\\s+up`));
    expect(frame).toContain('Ctrl-C exits');
    expect(frame).toMatch(/[▀▄█▌▐]/); // the panel itself, in block characters
    pty.write('\x03');
    expect(await exited).toBe(0);
    expect(screen).toContain('\x1b[?25h'); // the cursor is given back
  });
});
