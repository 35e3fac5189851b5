import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built `skyminer` command, exactly as the image installs it. */
export const SKYMINER = fileURLToPath(new URL('../../dist/firmware/cli/main.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command in a child process and collects its exit code and output. */
export function runSkyminer(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SKYMINER, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
