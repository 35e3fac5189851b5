import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stringify } from 'smol-toml';
import { ConfigError, loadConfig } from '../config/load.js';
import {
  CancelledError,
  ControlRequestError,
  ControlUnavailableError,
  type ControlApi,
} from '../control/client.js';
import type { AttachCommand, DiskJson, RewardsJson, SkywireJson } from '../control/sources.js';
import type { SupervisorEvent } from '../supervisor/event-log.js';
import type { OperationResult } from '../supervisor/operator.js';
import type { BoxView } from '../supervisor/view.js';
import { writeFileAtomic } from '../lib/files.js';
import { EXIT, helpText, needsConfirmation, type Command } from './commands.js';
import {
  boardDetail,
  boardJson,
  boardsTable,
  disksTable,
  eventLine,
  rewardsText,
  skywireText,
  statusJson,
  statusText,
} from './format.js';

/** What a command needs from where it runs: the CLI in a shell, or the console on the UART. */
export interface CommandIo {
  control: ControlApi;
  /** Prints output (a line break is added). */
  print(text: string): void;
  /** Prints a one-line error. */
  error(text: string): void;
  /** Who asks, for the event log: `console:ttyS0`, `cli:uid=0`. */
  by: string;
  /** Aborts when the person presses Ctrl-C. */
  signal: AbortSignal;
  /** Asks a yes/no question; resolves false on anything but yes. */
  confirm(question: string): Promise<boolean>;
  /** Runs a program on this terminal until it exits; absent where there is no terminal. */
  terminal?(command: AttachCommand): Promise<number>;
  /** Locks the console; absent in the CLI. */
  logout?(): void;
  /** The login shell `shell` opens. */
  shell: string[];
}

/** A failure to report: a one-line message and the exit code. */
export class Failure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one command and returns its exit code; every failure is printed as one line, nothing is thrown. */
export async function runCommand(command: Command, io: CommandIo): Promise<number> {
  try {
    return await execute(command, io);
  } catch (err) {
    if (err instanceof Failure) {
      io.error(err.message);
      return err.code;
    }
    if (err instanceof CancelledError) {
      io.error('cancelled');
      return 130;
    }
    if (err instanceof ControlUnavailableError) {
      io.error(err.message);
      return EXIT.unavailable;
    }
    if (err instanceof ControlRequestError) {
      io.error(err.message);
      return err.code === 'usage' ? EXIT.usage : EXIT.failed;
    }
    io.error(`${command.name} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return EXIT.failed;
  }
}

async function execute(command: Command, io: CommandIo): Promise<number> {
  const { control, signal } = io;
  const ask = <T>(body: Parameters<ControlApi['request']>[0], timeoutMs?: number): Promise<T> =>
    control.request<T>(body, { signal, timeoutMs });
  const out = (text: string, json: unknown): number => {
    io.print(command.json ? JSON.stringify(json, null, 2) : text);
    return EXIT.ok;
  };

  switch (command.name) {
    case 'help':
      io.print(helpText(command.topic));
      return EXIT.ok;

    case 'status': {
      const view = await ask<BoxView>({ method: 'view' });
      const disks = await optional(ask<DiskJson[]>({ method: 'disks' }));
      const rewards = await optional(ask<RewardsJson>({ method: 'rewards' }));
      const s = statusJson(view, disks, rewards);
      return out(statusText(s), s);
    }

    case 'boards': {
      const view = await ask<BoxView>({ method: 'view' });
      return out(boardsTable(view), view.boards.map(boardJson));
    }

    case 'board': {
      const view = await ask<BoxView>({ method: 'view' });
      const board = view.boards.find((b) => b.board === command.board);
      if (!board)
        throw new Failure(EXIT.usage, `no board ${command.board}; boards are 1 to ${view.boards.length}`);
      if (command.operation === undefined) {
        const events = await ask<SupervisorEvent[]>({ method: 'events', board: command.board, limit: 5 });
        return out(boardDetail(board, events), { ...boardJson(board), events });
      }
      if (needsConfirmation(command) && !command.yes) {
        const ok = await io.confirm(CONFIRM[command.operation](command.board));
        if (!ok) throw new Failure(EXIT.failed, `board ${command.board} ${command.operation}: not done`);
      }
      const result = await ask<OperationResult>(
        { method: 'operate', board: command.board, operation: command.operation, by: io.by },
        60_000,
      );
      return out(result.message, result);
    }

    case 'disks': {
      const disks = await ask<DiskJson[]>({ method: 'disks' });
      return out(disksTable(disks), disks);
    }

    case 'rewards': {
      if (command.address !== undefined) {
        // Two reads of the hypervisor and one change per visor, each bounded by the request timeout.
        const rewards = await ask<RewardsJson>(
          { method: 'reward-address', address: command.address },
          120_000,
        );
        return out(rewardsText(rewards), rewards);
      }
      const rewards = await ask<RewardsJson>({ method: 'rewards' });
      return out(rewardsText(rewards), rewards);
    }

    case 'update': {
      if (command.action === 'status') {
        const status = await ask<{ lines: string[]; rollout: unknown } | null>({
          method: 'update',
          action: 'status',
        });
        return out(
          status ? status.lines.join('\n') : 'no box-wide update has run yet',
          status?.rollout ?? null,
        );
      }
      if (command.action !== 'start') {
        const answer = await ask<{ message: string }>({ method: 'update', action: 'stop', by: io.by });
        return out(answer.message, answer);
      }
      // A path is the asker's: made whole here, since the manager reads it from its own working directory.
      const source = /^https?:\/\//.test(command.source) ? command.source : resolve(command.source);
      // The manager checks the whole bundle before it answers.
      const answer = await ask<{ message: string }>(
        { method: 'update', action: 'start', source, by: io.by },
        600_000,
      );
      return out(`${answer.message}\nprogress: update status, or events --follow`, answer);
    }

    case 'skywire': {
      if (command.password?.set !== undefined) {
        // A login to the hypervisor and the change, each bounded by the request timeout.
        const changed = await ask<{ changed: boolean }>(
          { method: 'hypervisor-password', action: 'set', password: command.password.set },
          60_000,
        );
        return out("the hypervisor's password is changed; the rewards service logs in with it", changed);
      }
      if (command.password) {
        const shown = await ask<{ password: string }>({ method: 'hypervisor-password', action: 'show' });
        return out(`hypervisor UI user admin, password ${shown.password}`, shown);
      }
      const skywire = await ask<SkywireJson>({ method: 'skywire' });
      return out(skywireText(skywire), skywire);
    }

    case 'events': {
      const board = command.board;
      const recent = await ask<SupervisorEvent[]>({
        method: 'events',
        ...(board !== undefined ? { board } : {}),
        limit: command.follow ? 10 : 50,
      });
      const show = (e: SupervisorEvent): void => io.print(command.json ? JSON.stringify(e) : eventLine(e));
      if (!command.follow) {
        if (command.json) io.print(JSON.stringify(recent, null, 2));
        else io.print(recent.length ? recent.map(eventLine).join('\n') : 'no events yet');
        return EXIT.ok;
      }
      recent.forEach(show);
      if (!command.json) io.print('(following; Ctrl-C stops)');
      await control.follow(board, show, signal);
      return EXIT.ok;
    }

    case 'panel': {
      if (command.action === 'snapshot') {
        const { png_base64 } = await ask<{ png_base64: string }>({ method: 'panel', action: 'snapshot' });
        const png = Buffer.from(png_base64, 'base64');
        try {
          await writeFileAtomic(command.file, png);
        } catch (err) {
          throw new Failure(EXIT.failed, `panel snapshot: cannot write ${command.file} (${errCode(err)})`);
        }
        return out(`panel picture saved to ${command.file} (${png.length} bytes)`, {
          file: command.file,
          bytes: png.length,
        });
      }
      if (command.action === 'pages') {
        const { pages } = await ask<{ pages: string[] }>({ method: 'panel', action: 'pages' });
        return out(`panel pages: ${pages.join(', ')}`, { pages });
      }
      const result = await ask<unknown>({
        method: 'panel',
        action: command.action,
        ...(command.page !== undefined ? { page: command.page } : {}),
      });
      const said = {
        page: `panel pinned to page ${command.page}`,
        cycle: 'panel cycles through its pages',
        dim: 'panel dimmed',
        off: 'panel off',
        on: 'panel on',
      }[command.action];
      return out(said, result);
    }

    case 'config': {
      if (command.action === 'check') {
        await checkableFile(command.file);
        try {
          const config = await loadConfig(command.file);
          return out(`${command.file}: a valid config (${config.box.boards} boards)`, {
            file: command.file,
            ok: true,
            error: null,
          });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          if (command.json)
            io.print(JSON.stringify({ file: command.file, ok: false, error: err.message }, null, 2));
          else io.error(err.message);
          return EXIT.failed;
        }
      }
      const shown = await ask<{ path: string | null; config: unknown }>({ method: 'config' });
      return out(tomlText(shown.path, shown.config), shown);
    }

    case 'shell':
      if (!io.terminal) throw new Failure(EXIT.usage, 'shell needs a terminal');
      return io.terminal({ argv: io.shell });

    case 'attach': {
      if (!io.terminal) throw new Failure(EXIT.usage, 'attach needs a terminal');
      const attach = await ask<AttachCommand>({ method: 'attach', board: command.board });
      if (attach.note) io.print(attach.note);
      return io.terminal(attach);
    }

    case 'logout':
      if (!io.logout)
        throw new Failure(EXIT.usage, 'logout: only in the console; this shell is yours to close');
      io.logout();
      return EXIT.ok;
  }
}

const CONFIRM: Record<'on' | 'off' | 'reset' | 'cycle', (n: number) => string> = {
  on: (n) => `Switch board ${n} on?`,
  off: (n) => `Switch board ${n} off? This cuts its power.`,
  reset: (n) => `Reset board ${n}? It restarts at once.`,
  cycle: (n) => `Power-cycle board ${n}? It goes off for a few seconds.`,
};

/** A source the box may lack: its data, or null when it is not available. Other errors pass. */
async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ControlRequestError && err.code === 'not-available') return null;
    throw err;
  }
}

function tomlText(path: string | null, config: unknown): string {
  const header = `# config in force${path ? ` (from ${path})` : ''}`;
  try {
    return `${header}\n${stringify(config as Record<string, unknown>).trimEnd()}`;
  } catch {
    return `${header}\n${JSON.stringify(config, null, 2)}`;
  }
}

/** A config to check must be a regular file of sane size: `/dev/zero` or a directory would never finish reading. */
async function checkableFile(file: string): Promise<void> {
  let s;
  try {
    s = await stat(file);
  } catch (err) {
    throw new Failure(EXIT.failed, `${file}: cannot read (${errCode(err)})`);
  }
  if (!s.isFile()) throw new Failure(EXIT.failed, `${file}: not a regular file`);
  if (s.size > 1024 * 1024)
    throw new Failure(EXIT.failed, `${file}: too large for a config (${s.size} bytes)`);
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}
