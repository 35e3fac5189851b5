// `skyminer visor-update BUNDLE`: on a board, install a signed visor bundle, restart the visor on it and keep it only
// when it comes up and stays up; otherwise back to the previous binary, with the reason.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import { compareVersions } from '../../rewards/version.js';
import { parseVisorInfo } from '../../skywire/visor-info.js';
import { loadTrustedKeys, UPDATE_KEYS_DIR } from '../../update/keys.js';
import { hostVisorArch } from '../../update/visor-bundle.js';
import { updateVisor } from '../../update/visor-install.js';
import { VISOR_SLOTS_DIR, visorBinary } from '../../update/visor-slots.js';

export const VISOR_UPDATE_USAGE = `usage: skyminer visor-update BUNDLE [--limit SECONDS]   install a signed Skywire visor bundle on this board`;

const run = promisify(execFile);
const say = (line: string) => console.log(`visor-update: ${line}`);

/** The running visor processes: named `skywire`, started as `skywire visor ...`. */
async function visorPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const comm = await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'skywire') continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv[1] === 'visor') pids.push(Number(name));
  }
  return pids;
}

/** Asks the running visor for itself through the binary now current. */
async function visorVersion(): Promise<{ ok: true; version: string } | { ok: false; problem: string }> {
  try {
    const { stdout } = await run(await visorBinary(), ['cli', 'visor', 'info', '--json'], {
      timeout: 10_000,
      killSignal: 'SIGKILL',
    }).catch((err: Error & { stdout?: string }) => {
      if (err.stdout) return { stdout: err.stdout };
      throw err;
    });
    return { ok: true, version: parseVisorInfo(stdout).version };
  } catch (err) {
    return { ok: false, problem: (err as Error).message.split('\n')[0]! };
  }
}

export async function visorUpdateCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { limit: { type: 'string' }, keys: { type: 'string' } },
  });
  if (positionals.length !== 1) {
    console.error(VISOR_UPDATE_USAGE);
    return 2;
  }
  const limitS = Number(v.limit ?? 180);
  if (!Number.isFinite(limitS) || limitS < 30) {
    console.error('skyminer: visor-update: --limit: expected seconds, at least 30');
    return 2;
  }
  const arch = hostVisorArch();
  if (!arch) {
    console.error(`skyminer: visor-update: no Skywire build for this machine (${process.arch})`);
    return 1;
  }
  const running = await visorVersion();
  const result = await updateVisor({
    bundle: positionals[0]!,
    dir: VISOR_SLOTS_DIR,
    policy: {
      keys: await loadTrustedKeys(v.keys ?? UPDATE_KEYS_DIR),
      arch,
      runningVersion: running.ok ? running.version : null,
      compare: compareVersions,
    },
    // The agent's visor service starts the visor again, on the binary `current` points at.
    restart: async () => {
      for (const pid of await visorPids()) process.kill(pid, 'SIGTERM');
    },
    probe: async () => {
      const r = await visorVersion();
      return r.ok ? { ok: true } : r;
    },
    swap: { limitMs: limitS * 1000, steadyMs: Math.min(30_000, (limitS * 1000) / 3) },
    log: say,
  });
  switch (result.outcome) {
    case 'refused':
      console.error(`skyminer: visor-update: refused: ${result.reason}; the running visor is untouched`);
      return 1;
    case 'already':
      say(`skywire ${result.version} is already the current binary`);
      return 0;
    case 'kept':
      say(`skywire ${result.version} runs and is kept (the previous binary stays beside it)`);
      return 0;
    case 'fell-back':
      console.error(
        `skyminer: visor-update: skywire ${result.version} not kept: ${result.reason}; back on the previous binary`,
      );
      return 1;
  }
}
