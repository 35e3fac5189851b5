import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnRunner, type CommandRunner } from '../../drivers/disks/command-runner.js';

// A shell script, copied beside the compiled module by the build, so it runs the same from source and from dist.
const STAND_IN = fileURLToPath(new URL('./smartctl-stand-in.sh', import.meta.url));

/**
 * The SMART side of the simulator's disks: one directory per board holding the smartctl report each emulated
 * disk answers with, and a command runner that sends `smartctl` to the stand-in executable for that board.
 */
export class SimDiskReports {
  private constructor(readonly dir: string) {}

  static async create(): Promise<SimDiskReports> {
    return new SimDiskReports(await mkdtemp(join(tmpdir(), 'skyminer-sim-smart-')));
  }

  /** From now on, `smartctl /dev/<disk>` on `board` answers with the report in `reportFile`. */
  async setReport(board: number, disk: string, reportFile: string): Promise<void> {
    const text = await readFile(reportFile, 'utf8');
    let status = 0;
    try {
      status = Number(
        (JSON.parse(text) as { smartctl?: { exit_status?: number } }).smartctl?.exit_status ?? 0,
      );
    } catch {
      // A malformed report is served as it is: the reader must cope with it, as with a broken smartctl.
    }
    const dir = join(this.dir, String(board));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${disk}.exit`), String(status));
    await writeFile(join(dir, `${disk}.json`), text);
  }

  async removeReport(board: number, disk: string): Promise<void> {
    await rm(join(this.dir, String(board), `${disk}.json`), { force: true });
    await rm(join(this.dir, String(board), `${disk}.exit`), { force: true });
  }

  /** A runner for board n: smartctl goes to the stand-in, everything else (mount, fsck) to `other`. */
  runnerFor(board: number, other: CommandRunner): CommandRunner {
    const dir = join(this.dir, String(board));
    return (file, args, options) =>
      file === 'smartctl'
        ? spawnRunner('/bin/sh', [STAND_IN, dir, ...args], options)
        : other(file, args, options);
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
