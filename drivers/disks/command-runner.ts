import { execFile } from 'node:child_process';

/** What a finished (or failed-to-start) command gave back. Runners never reject: failures are data. */
export interface CommandResult {
  /** Null when the process did not exit by itself (not started, killed on timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not run to completion: `ENOENT` (not installed), `ETIMEDOUT`, `EACCES`, ... */
  errorCode?: string;
  errorMessage?: string;
}

export type CommandRunner = (
  file: string,
  args: string[],
  opts: { timeoutMs: number },
) => Promise<CommandResult>;

/** Runs real executables with a hard timeout (SIGKILL: a hung disk command ignores politer signals). */
export const spawnRunner: CommandRunner = (file, args, { timeoutMs }) =>
  new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ exitCode: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (typeof e.code === 'number') return resolve({ exitCode: e.code, stdout, stderr });
        const errorCode = e.killed ? 'ETIMEDOUT' : (e.code ?? 'EFAILED');
        resolve({ exitCode: null, stdout, stderr, errorCode, errorMessage: e.message.split('\n')[0]! });
      },
    );
  });
