// `skyminer update`: a bundle streamed into the slot not running, checked as it arrives, read back, then the boot
// switched to it for one try in one environment write. Any refusal or failure leaves the running slot and the
// boot environment as they were.
import { createHash } from 'node:crypto';
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { readBundle, type BundleManifest, type BundlePolicy } from './bundle.js';
import { ENV, otherSlot, tryChanges, updateState, type Slot, type UpdateRecord } from './decision.js';
import { readEnv, updateEnv, type EnvStore } from './uboot-env.js';

export class UpdateError extends Error {
  override readonly name = 'UpdateError';
}

export interface SlotDevices {
  booted: Slot;
  /** The block device (or a file standing in for one) of each slot. */
  path: Record<Slot, string>;
  /** A slot's size in bytes. */
  bytes(slot: Slot): Promise<number>;
}

export interface InstallContext {
  env: EnvStore;
  slots: SlotDevices;
  policy: BundlePolicy;
  runningVersion: string;
  /** The update record on the data partition (update.json). */
  recordFile: string;
  now(): number;
  log(line: string): void;
  /** Called as the install gets on (a piece written, flushed or read back): the agent pets its watchdog on it. */
  progress?(): void;
}

/**
 * Written pieces are flushed every this many bytes. Left to the page cache, a root image's worth of dirty pages
 * on a slow card throttles every other writer on that card (logs, records) for as long as it drains, and those
 * writes fill the thread pool the agent's health checks also wait on.
 */
export const FLUSH_EVERY_BYTES = 4 << 20;

export async function readRecord(file: string): Promise<UpdateRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as UpdateRecord;
  } catch {
    return undefined;
  }
}

export async function writeRecord(file: string, r: UpdateRecord): Promise<void> {
  await writeFile(`${file}.new`, JSON.stringify(r) + '\n', { flush: true });
  await rename(`${file}.new`, file);
}

async function hashRange(path: string, bytes: number, progress: () => void): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let at = 0; at < bytes;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - at), at);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      at += bytesRead;
      progress();
    }
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

export async function installBundle(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  ctx: InstallContext,
): Promise<{ manifest: BundleManifest; slot: Slot }> {
  const env = await readEnv(ctx.env);
  const state = updateState(env, ctx.slots.booted);
  if (state.kind === 'trying')
    throw new UpdateError(
      `slot ${state.slot} is on its trial boot; it commits once healthy or falls back, then update again`,
    );
  const target = otherSlot(ctx.slots.booted);
  // A slot written by an earlier install that never rebooted: take its try away before writing over it.
  if (env[ENV.try] !== undefined)
    await updateEnv(ctx.env, { [ENV.try]: undefined, [ENV.tryLeft]: undefined });
  const progress = ctx.progress ?? (() => {});
  const room = await ctx.slots.bytes(target);
  const fh = await open(ctx.slots.path[target], 'r+');
  let manifest: BundleManifest;
  let unflushed = 0;
  try {
    manifest = await readBundle(source, ctx.policy, {
      onManifest: (m) => {
        if (m.root.bytes > room)
          throw new UpdateError(
            `the root image (${m.root.bytes} bytes) is larger than slot ${target} (${room} bytes)`,
          );
        ctx.log(`writing firmware ${m.firmware} into slot ${target} (${ctx.slots.path[target]})`);
      },
      sink: async (chunk, offset) => {
        await fh.write(chunk, 0, chunk.length, offset);
        progress();
        unflushed += chunk.length;
        if (unflushed >= FLUSH_EVERY_BYTES) {
          unflushed = 0;
          await fh.datasync();
          progress();
        }
      },
    });
    await fh.sync();
    progress();
  } finally {
    await fh.close();
  }
  if ((await hashRange(ctx.slots.path[target], manifest.root.bytes, progress)) !== manifest.root.sha256)
    throw new UpdateError(
      `slot ${target} reads back different from what was written: the card may be failing`,
    );
  await writeRecord(ctx.recordFile, {
    version: manifest.firmware,
    slot: target,
    fromVersion: ctx.runningVersion,
    fromSlot: ctx.slots.booted,
    stage: 'installed',
    at: ctx.now(),
  });
  // The switch: one write of the whole environment (the spare copy, where there are two).
  await updateEnv(ctx.env, tryChanges(target));
  progress();
  ctx.log(`slot ${target} holds firmware ${manifest.firmware}; the next boot tries it once`);
  return { manifest, slot: target };
}
