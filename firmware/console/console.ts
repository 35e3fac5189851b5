import { createInterface, type Interface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { ControlApi } from '../control/client.js';
import type { AttachCommand } from '../control/sources.js';
import type { BoxView } from '../supervisor/view.js';
import { complete, parseCommand, type Command } from './commands.js';
import { KeyLineReader } from './key-reader.js';
import {
  LOGIN_DELAY,
  loginDelayMs,
  PASSWORD_RULES,
  passwordProblem,
  verifyPassword,
  type LoginDelayPolicy,
  type PasswordStore,
} from './password.js';
import { runCommand } from './run.js';
import { runInTerminal } from './terminal-bridge.js';
import { printable, splitWords } from './words.js';

export interface ConsoleOptions {
  /** The terminal: the UART under the init system, or any tty. */
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  control: ControlApi;
  passwords: PasswordStore;
  /** Who asks, for the event log: `console:ttyS0`. */
  by: string;
  /** Locks the session after this long without a keystroke; 0 never locks. */
  idleLockMs: number;
  loginDelay?: LoginDelayPolicy;
  /** The login shell `shell` opens. */
  shell: string[];
  /**
   * Set when the device config could not be read: the password may live elsewhere, so nobody is offered to choose
   * one (the console stays locked unless a password is already set where it looked); the text says why.
   */
  firstUseRefused?: string;
}

const PROMPT = 'skyminer> ';

/**
 * The interactive console. Every keystroke arrives in one place and goes to whatever owns the terminal now: the
 * login prompt, the command line (node's readline: editing, history, completion), or a shell in a
 * pseudo-terminal. Ctrl-C cancels what runs and never ends the console; only the init system stops it.
 */
export class Console {
  private sink: ((data: string) => void) | null = null;
  private unread = '';
  private rl: Interface | null = null;
  private history: string[] = [];
  private running: { abort: AbortController; done: Promise<void> } | null = null;
  private confirmAnswer: ((answer: string | null) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private endSession: (() => void) | null = null;
  private locking = false;
  private failures = 0;
  private boards = 0;
  private pages: string[] = [];
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: ConsoleOptions) {}

  private readonly onData = (chunk: Buffer | string): void => {
    if (this.endSession) this.armIdle();
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.sink) this.sink(text);
    else this.unread = (this.unread + text).slice(-4096);
  };

  /** Runs until `stop()`: login, session, lock, login again. */
  async run(): Promise<void> {
    const { input } = this.options;
    if (input.isTTY) input.setRawMode(true);
    input.on('data', this.onData);
    input.resume();
    this.write('\r\nSkyminer console\r\n');
    while (!this.stopped) {
      if (!(await this.login())) break;
      await this.session();
    }
  }

  /** Gives the terminal back as it was. */
  stop(): void {
    this.stopped = true;
    this.clearIdle();
    this.running?.abort.abort();
    this.closePrompt();
    this.wake?.();
    const end = this.endSession;
    this.endSession = null;
    end?.();
    const { input } = this.options;
    input.off('data', this.onData);
    if (input.isTTY) input.setRawMode(false);
    input.pause();
  }

  private write(text: string): void {
    this.options.output.write(text);
  }

  /** Hands keystrokes to `sink`, first any typed ahead that nobody has read yet. */
  private setSink(sink: ((data: string) => void) | null): void {
    this.sink = sink;
    if (sink && this.unread) {
      const pending = this.unread;
      this.unread = '';
      sink(pending);
    }
  }

  /** Reads one line from raw keystrokes; null when Ctrl-C cancelled it or the console stopped. */
  private readKeys(prompt: string, visible: boolean): Promise<string | null> {
    this.write(prompt);
    const reader = new KeyLineReader({ echo: (s) => this.write(s), visible, maxLength: 1024 });
    return new Promise((resolve) => {
      this.wake = () => resolve(null);
      this.setSink((data) => {
        const done = reader.feed(data);
        if (!done) return;
        this.sink = null;
        this.wake = null;
        this.unread = done.rest + this.unread;
        resolve(done.line);
      });
    });
  }

  private pause(ms: number): Promise<void> {
    this.setSink(() => {}); // keystrokes during the wait are thrown away, not saved for the next prompt
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
      this.sink = null;
    });
  }

  /** Resolves true once someone has logged in (or set the first password), false when the console stops. */
  private async login(): Promise<boolean> {
    while (!this.stopped) {
      const state = await this.options.passwords.read();
      if (state.kind === 'locked') {
        this.write(`console locked: ${state.reason}\r\n`);
        await this.readKeys('', false);
        continue;
      }
      if (state.kind === 'unset' && this.options.firstUseRefused) {
        this.write(`console locked: ${this.options.firstUseRefused}\r\n`);
        await this.readKeys('', false);
        continue;
      }
      if (state.kind === 'unset') {
        if (await this.firstPassword()) return true;
        continue;
      }
      const password = await this.readKeys('password: ', false);
      if (password === null || password === '') continue;
      if (await verifyPassword(password, state.hash)) {
        this.failures = 0;
        return true;
      }
      this.failures++;
      const delay = loginDelayMs(this.failures, this.options.loginDelay ?? LOGIN_DELAY);
      this.write(`login incorrect; next attempt in ${formatSeconds(delay)}\r\n`);
      await this.pause(delay);
    }
    return false;
  }

  /** First boot: no password exists anywhere, so the owner at the console chooses one. */
  private async firstPassword(): Promise<boolean> {
    this.write(`No console password is set on this box. Choose one now.\r\n`);
    this.write(`${PASSWORD_RULES}\r\n`);
    const first = await this.readKeys('new password: ', false);
    if (first === null) return false;
    const problem = passwordProblem(first);
    if (problem) {
      this.write(`not accepted: ${problem}\r\n`);
      return false;
    }
    const again = await this.readKeys('the same again: ', false);
    if (again === null) return false;
    if (again !== first) {
      this.write('the two entries differ; nothing was saved\r\n');
      return false;
    }
    try {
      await this.options.passwords.set(first);
    } catch (err) {
      this.write(`cannot save the password: ${(err as Error).message.split('\n')[0]}\r\n`);
      return false;
    }
    this.write(`password saved in ${this.options.passwords.path}\r\n`);
    return true;
  }

  private session(): Promise<void> {
    this.write('type help for the commands\r\n');
    this.refreshCompletions();
    return new Promise((resolve) => {
      this.endSession = resolve;
      this.armIdle();
      this.openPrompt();
    });
  }

  /** Locks the console: stops what runs, then back to the login prompt. */
  private async lock(reason: string): Promise<void> {
    if (this.locking || !this.endSession) return;
    this.locking = true;
    this.clearIdle();
    this.confirmAnswer?.(null);
    this.running?.abort.abort();
    await this.running?.done;
    this.closePrompt();
    this.write(`\r\n${reason}\r\n`);
    const end = this.endSession;
    this.endSession = null;
    this.locking = false;
    end();
  }

  private armIdle(): void {
    this.clearIdle();
    const ms = this.options.idleLockMs;
    if (ms > 0)
      this.idleTimer = setTimeout(
        () => void this.lock(`locked after ${formatSeconds(ms)} without typing`),
        ms,
      );
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private openPrompt(): void {
    const input = new PassThrough();
    const rl = createInterface({
      input,
      output: this.options.output,
      terminal: true,
      prompt: PROMPT,
      history: this.history,
      historySize: 200,
      removeHistoryDuplicates: true,
      completer: (line: string): [string[], string] => complete(line, this.boards, this.pages),
    });
    rl.on('line', (line) => this.onLine(line));
    rl.on('SIGINT', () => this.onInterrupt());
    rl.on('SIGTSTP', () => {}); // Ctrl-Z must not stop the console
    rl.on('history', (history: string[]) => (this.history = history));
    this.rl = rl;
    this.setSink((data) => {
      // Ctrl-D would close the line editor; on an empty line it says how to leave instead.
      if (data.includes('\x04')) {
        if (data === '\x04' && rl.line === '')
          this.write('\r\n(type logout to lock the console)\r\n' + PROMPT);
        data = data.replaceAll('\x04', '');
      }
      // The line editor completes only on a Tab that ends its chunk; keys that arrive together over a slow serial
      // line or a busy terminal are split after each Tab so that every Tab completes.
      for (const piece of data.split(/(?<=\t)/)) if (piece) input.write(piece);
    });
    rl.prompt();
  }

  private closePrompt(): void {
    const rl = this.rl;
    this.rl = null;
    this.sink = null;
    rl?.close();
  }

  private onInterrupt(): void {
    const rl = this.rl;
    if (this.confirmAnswer || this.running || !rl) {
      this.write('^C\r\n');
      if (this.confirmAnswer) this.confirmAnswer(null);
      else this.running?.abort.abort();
      return;
    }
    // Drop the half-typed line the way a shell does: show ^C after it, then an empty prompt on the next line.
    // The same line editor stays, so keys typed right after Ctrl-C are not lost.
    rl.write(null, { ctrl: true, name: 'e' });
    this.write('^C\r\n');
    rl.write(null, { ctrl: true, name: 'u' });
  }

  private onLine(line: string): void {
    if (this.confirmAnswer) {
      const answer = this.confirmAnswer;
      this.confirmAnswer = null;
      if (this.history[0] === line) this.history.shift();
      answer(line);
      return;
    }
    if (this.running || this.locking) return; // typed while a command runs: not a command
    const words = splitWords(line);
    if (!words.ok) return this.answer(`error: ${words.error}`);
    if (words.words.length === 0) return this.rl?.prompt();
    // A new password is not kept for the next person at the console to scroll back to.
    if (words.words[0] === 'skywire' && words.words[1] === 'password' && words.words[2] === 'set')
      if (this.history[0] === line) this.history.shift();
    const parsed = parseCommand(words.words);
    if (!parsed.ok) return this.answer(`error: ${parsed.error}`);
    const abort = new AbortController();
    const done = this.execute(parsed.command, abort.signal).finally(() => {
      this.running = null;
      if (this.endSession && !this.locking) {
        if (!this.rl) this.openPrompt();
        else this.rl.prompt(true); // keeps what was typed ahead, cursor at its end
        this.refreshCompletions();
      }
    });
    this.running = { abort, done };
  }

  private answer(text: string): void {
    this.write(text + '\r\n');
    this.rl?.prompt();
  }

  private async execute(command: Command, signal: AbortSignal): Promise<void> {
    try {
      await runCommand(command, {
        control: this.options.control,
        print: (text) => this.write(text.replaceAll('\n', '\r\n') + '\r\n'),
        error: (text) => this.write(`error: ${text}\r\n`),
        by: this.options.by,
        signal,
        shell: this.options.shell,
        confirm: (question) => this.confirm(question),
        terminal: (cmd) => this.terminal(cmd, signal),
        logout: () => void this.lock('console locked'),
      });
    } catch (err) {
      // runCommand reports its own failures; this is the last guard so that the console never dies of one.
      this.write(`error: ${printable(String(err), 200)}\r\n`);
    }
  }

  private confirm(question: string): Promise<boolean> {
    const rl = this.rl;
    if (!rl) return Promise.resolve(false);
    return new Promise<string | null>((resolve) => {
      this.confirmAnswer = resolve;
      rl.setPrompt(`${question} [y/N] `);
      rl.prompt();
    }).then((answer) => {
      rl.setPrompt(PROMPT);
      return answer !== null && /^\s*y(es)?\s*$/i.test(answer);
    });
  }

  private async terminal(command: AttachCommand, signal: AbortSignal): Promise<number> {
    this.closePrompt();
    const code = await runInTerminal(
      command,
      {
        output: this.options.output,
        onInput: (listener) => {
          this.setSink((data) => listener(Buffer.from(data, 'utf8')));
          return () => {
            this.sink = null;
          };
        },
      },
      signal,
    );
    this.write('\r\n');
    return code;
  }

  /** Board numbers and panel pages for tab completion, learned in the background. */
  private refreshCompletions(): void {
    const { control } = this.options;
    control.request<BoxView>({ method: 'view' }, { timeoutMs: 2000 }).then(
      (view) => (this.boards = view.boards.length),
      () => {},
    );
    control.request<{ pages: string[] }>({ method: 'panel', action: 'pages' }, { timeoutMs: 2000 }).then(
      (r) => (this.pages = r.pages),
      () => {},
    );
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
