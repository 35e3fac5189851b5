import { readFile, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_CONFIG_PATH, parseConfigText } from '../config/load.js';
import { ControlClient, DEFAULT_CONTROL_PATH } from '../control/client.js';
import { COMMAND_NAMES, EXIT, parseCommand } from './commands.js';
import { Console } from './console.js';
import { passwordFile, PasswordStore } from './password.js';
import { Failure, runCommand } from './run.js';
import { runInTerminal } from './terminal-bridge.js';

export const DEFAULT_STATE_DIR = '/var/lib/skyminer';

/** Console commands the CLI runs as `skyminer <command>`. */
export function isConsoleCommand(name: string | undefined): boolean {
  return name !== undefined && name !== 'help' && COMMAND_NAMES.includes(name);
}

export const CONSOLE_USAGE = `       skyminer [--control PATH] <console command> [arguments] [--json] [--yes]
       skyminer console [--control PATH] [--state-dir DIR] [--idle-lock SECONDS]`;

/**
 * Takes `--control PATH` (or `--control=PATH`) out of the arguments, wherever it stands; the rest are the
 * command's words.
 */
export function takeControlOption(argv: string[]): { control: string | undefined; rest: string[] } | string {
  const rest: string[] = [];
  let control: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--control') {
      const value = argv[++i];
      if (value === undefined || value === '') return '--control needs the path of the control socket';
      control = value;
    } else if (word.startsWith('--control=')) {
      control = word.slice('--control='.length);
      if (control === '') return '--control needs the path of the control socket';
    } else rest.push(word);
  }
  return { control, rest };
}

function cliBy(): string {
  return `cli:uid=${process.getuid?.() ?? 'unknown'}`;
}

/** `skyminer <command> ...`: one console command, its output on stdout, one error line on stderr. */
export async function runCliCommand(words: string[], controlPath = DEFAULT_CONTROL_PATH): Promise<number> {
  const error = (text: string): void => void process.stderr.write(`skyminer: ${text}\n`);
  const parsed = parseCommand(words);
  if (!parsed.ok) {
    error(parsed.error);
    return EXIT.usage;
  }
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = process.stdin.isTTY === true;
  try {
    return await runCommand(parsed.command, {
      control: new ControlClient(controlPath),
      print: (text) => void process.stdout.write(text + '\n'),
      error,
      by: cliBy(),
      signal: abort.signal,
      shell: loginShell(),
      confirm: async (question) => {
        const cmd = parsed.command;
        const what = cmd.name === 'board' ? `board ${cmd.board} ${cmd.operation ?? ''}`.trim() : cmd.name;
        if (!tty) throw new Failure(EXIT.usage, `${what} needs confirmation: add --yes`);
        return askYesNo(`${question} [y/N] `);
      },
      ...(tty
        ? {
            terminal: (command) => {
              process.stdin.setRawMode(true);
              return runInTerminal(
                command,
                {
                  output: process.stdout,
                  onInput: (listener) => {
                    process.stdin.on('data', listener);
                    process.stdin.resume();
                    return () => {
                      process.stdin.off('data', listener);
                      process.stdin.setRawMode(false);
                      process.stdin.pause();
                    };
                  },
                },
                abort.signal,
              );
            },
          }
        : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^\s*y(es)?\s*$/i.test(answer));
    });
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      resolve(false);
    });
  });
}

function loginShell(): string[] {
  return [process.env.SHELL || '/bin/sh', '-l'];
}

/** The terminal's name for the event log: `ttyS0`, `pts/3`. */
function ttyName(): string {
  try {
    return readlinkSync('/proc/self/fd/0')
      .replace(/^\/dev\//, '')
      .replace(/[^\x21-\x7e]/g, '?')
      .slice(0, 40);
  } catch {
    return 'tty';
  }
}

/**
 * The state dir: `--state-dir`, else the config file's, else the default. A config that cannot be read or is not
 * valid still lets a password set in the default state dir log in (a broken config must not shut the owner out),
 * but `unreadable` says why nobody may choose a first password: it might be set where the config points.
 */
async function stateDirFrom(
  config: string | undefined,
): Promise<{ dir: string; warning?: string; unreadable?: string }> {
  const path = config ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await promisify(readFile)(path, 'utf8');
  } catch (err) {
    const why = `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    return { dir: DEFAULT_STATE_DIR, unreadable: `${why}; no password can be chosen until it is fixed` };
  }
  try {
    return { dir: parseConfigText(text, path).supervisor.state_dir };
  } catch (err) {
    const first = (err as Error).message.split('\n')[0]!;
    return {
      dir: DEFAULT_STATE_DIR,
      warning: `${first}; using ${DEFAULT_STATE_DIR}`,
      unreadable: `${first}; no password can be chosen until it is fixed`,
    };
  }
}

/** `skyminer console`: the interactive console on this terminal, until the init system stops it. */
export async function consoleCommand(argv: string[], controlPath = DEFAULT_CONTROL_PATH): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'state-dir': { type: 'string' },
      config: { type: 'string' },
      'idle-lock': { type: 'string' },
    },
  });
  const idle = values['idle-lock'] ?? '600';
  const usage = (text: string): number => {
    process.stderr.write(`skyminer: ${text}\n`);
    return EXIT.usage;
  };
  if (!/^\d+(\.\d+)?$/.test(idle) || Number(idle) > 86400) {
    return usage(`--idle-lock: expected seconds from 0 (never) to 86400, got "${idle}"`);
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    return usage('console needs a terminal (for one command use skyminer <command>)');
  }
  let stateDir = values['state-dir'];
  let firstUseRefused: string | undefined;
  if (stateDir === undefined) {
    const found = await stateDirFrom(values.config);
    if (found.warning) process.stderr.write(`skyminer: ${found.warning}\r\n`);
    stateDir = found.dir;
    firstUseRefused = found.unreadable;
  }
  const console_ = new Console({
    input: process.stdin,
    output: process.stdout,
    control: new ControlClient(controlPath),
    passwords: new PasswordStore(passwordFile(stateDir)),
    by: `console:${ttyName()}`,
    idleLockMs: Number(idle) * 1000,
    shell: loginShell(),
    ...(firstUseRefused ? { firstUseRefused } : {}),
  });
  // Ctrl-C is a keystroke for the console, never a way to kill it; the init system stops it with SIGTERM.
  process.on('SIGINT', () => {});
  process.on('SIGQUIT', () => {});
  process.on('SIGTSTP', () => {});
  const stop = (): void => console_.stop();
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  await console_.run();
  return EXIT.ok;
}
