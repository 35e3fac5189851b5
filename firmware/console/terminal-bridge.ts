import { userInfo } from 'node:os';
import { spawn, type IPty } from 'node-pty';
import type { AttachCommand } from '../control/sources.js';

export interface TerminalStreams {
  output: NodeJS.WriteStream;
  /** Receives the person's keystrokes while the program runs; returns the function that stops it. */
  onInput(listener: (data: Buffer) => void): () => void;
}

/**
 * Runs a program in a new pseudo-terminal joined to the person's terminal: keystrokes go to it raw (Ctrl-C
 * included, so it reaches the program, not us), its output comes back, and a window size change follows.
 * Resolves with its exit code; `signal` ends it (the console locking while a shell is open).
 */
export function runInTerminal(
  command: AttachCommand,
  io: TerminalStreams,
  signal?: AbortSignal,
): Promise<number> {
  const [file, ...args] = command.argv;
  if (file === undefined) return Promise.resolve(1);
  const home = homeDir();
  let child: IPty;
  try {
    child = spawn(file, args, {
      name: process.env.TERM ?? 'vt100',
      cols: io.output.columns || 80,
      rows: io.output.rows || 24,
      cwd: home,
      env: { ...process.env, HOME: home, ...command.env } as Record<string, string>,
    });
  } catch (err) {
    io.output.write(`cannot start ${file}: ${(err as Error).message.split('\n')[0]}\r\n`);
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const stopInput = io.onInput((data) => child.write(data.toString('utf8')));
    const onResize = (): void => {
      try {
        child.resize(io.output.columns || 80, io.output.rows || 24);
      } catch {
        // The program may be gone already.
      }
    };
    io.output.on('resize', onResize);
    const out = child.onData((data) => io.output.write(data));
    const kill = (): void => child.kill('SIGHUP');
    signal?.addEventListener('abort', kill, { once: true });
    child.onExit(({ exitCode }) => {
      stopInput();
      out.dispose();
      io.output.off('resize', onResize);
      signal?.removeEventListener('abort', kill);
      resolve(exitCode);
    });
  });
}

/**
 * The account's home from passwd, as login(1) sets it: a console started by init inherits HOME=/ from it.
 */
function homeDir(): string {
  try {
    return userInfo().homedir || process.env.HOME || '/';
  } catch {
    return process.env.HOME ?? '/';
  }
}
