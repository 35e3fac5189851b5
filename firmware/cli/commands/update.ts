// `skyminer update`: install a bundle into the spare slot and reboot into it, watch a trial boot, show the state.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { BundleRefused } from '../../update/bundle.js';
import { committedSlot, ENV, updateState } from '../../update/decision.js';
import { deviceTrialHealth } from '../../update/boot-proof.js';
import { DeviceError, deviceSlots, loadEnvStore, RECORD_FILE, release } from '../../update/device.js';
import { installBundle, readRecord, UpdateError } from '../../update/install.js';
import { loadTrustedKeys, UPDATE_KEYS_DIR } from '../../update/keys.js';
import { EnvError, readEnv } from '../../update/uboot-env.js';
import { watchBoot } from '../../update/watch.js';

export const UPDATE_USAGE = `usage: skyminer update BUNDLE|URL [--no-reboot]   install into the spare slot, then boot it once
       skyminer update status                      slots, what is being tried, the last update and its outcome
       skyminer update watch [--limit SECONDS]     (at boot) commit a trial boot once healthy, else fall back
       skyminer update --box BUNDLE|URL|status|stop  (on the manager) every board, one at a time, the manager last
                                                     (a firmware bundle, or a visor bundle: each board's visor)`;

const say = (line: string) => console.log(`update: ${line}`);

async function source(where: string): Promise<AsyncIterable<Buffer | Uint8Array | string>> {
  if (/^https?:\/\//.test(where)) {
    const res = await fetch(where).catch((err: Error) => {
      throw new UpdateError(`${where}: ${err.message}`);
    });
    if (!res.ok || !res.body) throw new UpdateError(`${where}: HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  return createReadStream(where);
}

function reboot(): Promise<void> {
  return new Promise((done) => {
    spawn('reboot', { stdio: 'ignore', detached: true })
      .on('error', () => done())
      .on('spawn', () => done());
  });
}

export async function updateCommand(args: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'no-reboot': { type: 'boolean' }, limit: { type: 'string' } },
  });
  const [what, ...rest] = positionals;
  try {
    if (what === 'watch') {
      const limit = Number(v.limit ?? 300);
      if (!Number.isFinite(limit) || limit <= 0) throw new UpdateError('--limit: expected seconds, above 0');
      // An image started without U-Boot (QEMU loading the kernel itself) has no environment: nothing to watch.
      const env = await loadEnvStore().catch((err: Error) => err);
      if (env instanceof Error) {
        say(`${env.message}; nothing to watch`);
        return 0;
      }
      const slots = await deviceSlots();
      const outcome = await watchBoot({
        env,
        booted: slots.booted,
        recordFile: RECORD_FILE,
        limitMs: limit * 1000,
        pollMs: 5000,
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        healthy: () => deviceTrialHealth(),
        reboot,
        log: say,
      });
      return outcome === 'gave-up' ? 1 : 0;
    }
    if (what === 'status') {
      const slots = await deviceSlots();
      const env = await readEnv(await loadEnvStore());
      const state = updateState(env, slots.booted);
      const r = await release();
      say(
        `running firmware ${r.version ?? 'unknown'} from slot ${slots.booted}; committed slot ${committedSlot(env)}`,
      );
      if (state.kind === 'trying')
        say(`slot ${state.slot} is on its trial boot (falls back to ${state.fallback})`);
      else if (env[ENV.try]) say(`slot ${env[ENV.try]} will be tried at the next boot`);
      const rec = await readRecord(RECORD_FILE);
      if (rec)
        say(
          `last update: firmware ${rec.version} into slot ${rec.slot}, ${rec.stage}${rec.reason ? ` (${rec.reason})` : ''}`,
        );
      return 0;
    }
    if (!what || rest.length) {
      console.error(UPDATE_USAGE);
      return 2;
    }
    const r = await release();
    const keys = await loadTrustedKeys(UPDATE_KEYS_DIR);
    const result = await installBundle(await source(what), {
      env: await loadEnvStore(),
      slots: await deviceSlots(),
      policy: {
        keys,
        ...(r.profile ? { profile: r.profile } : {}),
        ...(r.version ? { runningVersion: r.version } : {}),
      },
      runningVersion: r.version ?? '0.0.0',
      recordFile: RECORD_FILE,
      now: () => Date.now(),
      log: say,
    });
    if (v['no-reboot']) {
      say(`firmware ${result.manifest.firmware} is tried at the next reboot`);
      return 0;
    }
    say('rebooting into it');
    await reboot();
    return 0;
  } catch (err) {
    if (err instanceof BundleRefused) {
      console.error(`update: refused: ${err.message}; the running firmware is untouched`);
      return 1;
    }
    if (err instanceof UpdateError || err instanceof DeviceError || err instanceof EnvError) {
      console.error(`update: ${err.message}`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      console.error(`update: ${(err as Error).message}`);
      return 1;
    }
    throw err;
  }
}
