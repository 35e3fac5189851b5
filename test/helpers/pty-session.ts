import { spawn, type IPty } from 'node-pty';
import { SKYMINER } from './skyminer.js';

/** Strips colour, cursor and line-editing sequences so the screen reads as text. */
export const plain = (s: string): string =>
  s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b\][^\x07]*\x07/g, '');

/**
 * `skyminer console` in a pseudo-terminal, driven as a person would: keys typed one at a time, and the screen
 * read back. `expect` waits for text to appear after the point where the previous expectation matched.
 */
export class ConsoleSession {
  readonly pty: IPty;
  private screen = '';
  private mark = 0;
  exit: { exitCode: number; signal?: number } | null = null;

  constructor(args: string[]) {
    this.pty = spawn(process.execPath, [SKYMINER, 'console', ...args], {
      cols: 80,
      rows: 24,
      env: { ...process.env, TERM: 'xterm', SHELL: '/bin/sh' },
    });
    this.pty.onData((d) => (this.screen += d));
    this.pty.onExit((e) => (this.exit = e));
  }

  get text(): string {
    return plain(this.screen);
  }

  /** What appeared since the last match. */
  get recent(): string {
    return plain(this.screen).slice(this.mark);
  }

  async expect(what: string | RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = plain(this.screen);
      const rest = text.slice(this.mark);
      const at = typeof what === 'string' ? rest.indexOf(what) : rest.search(what);
      if (at >= 0) {
        const length = typeof what === 'string' ? what.length : (rest.slice(at).match(what)?.[0].length ?? 0);
        this.mark += at + length;
        return rest.slice(0, at + length);
      }
      if (Date.now() > deadline || this.exit) {
        throw new Error(`expected ${String(what)}; screen since last match:\n${rest.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Types keys one by one, as fingers do (tab completion only fires on a key of its own). */
  async type(keys: string): Promise<void> {
    for (const key of keys) {
      this.pty.write(key);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  send(data: string): void {
    this.pty.write(data);
  }

  async login(password: string): Promise<void> {
    await this.expect('password: ');
    await this.type(password + '\r');
    await this.expect('skyminer> ');
  }

  /** Runs one command line and returns what it printed up to the next prompt. */
  async run(line: string, timeoutMs = 5000): Promise<string> {
    await this.type(line + '\r');
    const out = await this.expect('skyminer> ', timeoutMs);
    return out
      .replace(/\r/g, '')
      .replace(/^.*?\n/, '')
      .replace(/skyminer> $/, '');
  }

  close(): Promise<void> {
    if (this.exit) return Promise.resolve();
    return new Promise((resolve) => {
      this.pty.onExit(() => resolve());
      this.pty.kill('SIGTERM');
    });
  }
}
