// A visor bundle installed on this board: checked, swapped in, the visor restarted on the new binary, and kept only
// when it comes up and stays up (visor-swap.ts); otherwise the previous binary is put back and the visor restarted
// on it, with the reason. While the new binary is on trial a marker says so on the data partition: a board that
// restarts before the verdict (power lost, a reset) goes back to the previous binary at its next start
// (recoverUnjudgedVisor), so an unjudged binary never stays current.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/files.js';
import { BundleRefused } from './bundle.js';
import type { VisorBundlePolicy } from './visor-bundle.js';
import { fallBack, installVisorBundle } from './visor-slots.js';
import { DEFAULT_SWAP_POLICY, judgeSwap, swapStarted, type SwapPolicy } from './visor-swap.js';

export interface VisorInstallOptions {
  bundle: string;
  dir: string;
  policy: VisorBundlePolicy;
  /** Ends the running visor so that its service starts it again, on whatever `current` now points at. */
  restart: () => Promise<void>;
  /** Whether the visor answers now (its own RPC), or the one-line reason it does not. */
  probe: () => Promise<{ ok: true } | { ok: false; problem: string }>;
  swap?: SwapPolicy;
  probeEveryMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  /**
   * True once the software running this is going away (the board stops): the trial is left as it is, marked, for
   * the next start to give up (recoverUnjudgedVisor), rather than judged by a process on its way out.
   */
  abandoned?: () => boolean;
}

/** The trial was left unjudged because the board's software stopped. */
export class VisorTrialAbandoned extends Error {
  override readonly name = 'VisorTrialAbandoned';
}

export type VisorInstallResult =
  | { outcome: 'kept'; version: string }
  | { outcome: 'already'; version: string }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'fell-back'; version: string; reason: string };

export async function updateVisor(o: VisorInstallOptions): Promise<VisorInstallResult> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = o.log ?? (() => {});
  let installed;
  try {
    installed = await installVisorBundle(o.bundle, o.policy, o.dir);
  } catch (err) {
    if (err instanceof BundleRefused) return { outcome: 'refused', reason: err.message };
    throw err;
  }
  const version = installed.manifest.version;
  if (installed.before.current === installed.release) return { outcome: 'already', version };
  await writeFileAtomic(trialFile(o.dir), JSON.stringify({ version, since: now() }) + '\n');
  log(`skywire ${version} installed; restarting the visor on it`);
  await o.restart();
  let state = swapStarted(now());
  for (;;) {
    if (o.abandoned?.())
      throw new VisorTrialAbandoned(`skywire ${version} left on trial: the board is stopping`);
    const probe = await o.probe().catch((err: unknown) => ({
      ok: false as const,
      problem: (err as Error).message.split('\n')[0]!,
    }));
    const judged = judgeSwap(state, probe, now(), o.swap ?? DEFAULT_SWAP_POLICY);
    state = judged.state;
    if (judged.verdict.verdict === 'keep') {
      await rm(trialFile(o.dir), { force: true });
      return { outcome: 'kept', version };
    }
    if (judged.verdict.verdict === 'fallback') {
      const reason = judged.verdict.reason;
      log(`skywire ${version} not kept: ${reason}; going back to the previous binary`);
      await fallBack(o.dir);
      await rm(trialFile(o.dir), { force: true });
      await o.restart();
      return { outcome: 'fell-back', version, reason };
    }
    await sleep(o.probeEveryMs ?? 2000);
  }
}

/** Marks a visor binary on trial: present from the swap to the verdict. */
function trialFile(dir: string): string {
  return join(dir, 'visor-trial.json');
}

/**
 * At the board's start, before its visor runs: a binary still on trial (the board restarted before the verdict)
 * is not kept; the previous one is put back. Returns the version given up, or null when nothing was on trial.
 */
export async function recoverUnjudgedVisor(dir: string): Promise<string | null> {
  const text = await readFile(trialFile(dir), 'utf8').catch(() => null);
  if (text === null) return null;
  let version = 'unknown';
  try {
    const parsed = JSON.parse(text) as { version?: unknown };
    if (typeof parsed.version === 'string') version = parsed.version;
  } catch {
    // A damaged marker still means a trial was under way.
  }
  await fallBack(dir);
  await rm(trialFile(dir), { force: true });
  return version;
}
