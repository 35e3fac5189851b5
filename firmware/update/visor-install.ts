// A visor bundle installed on this board: checked, swapped in, the visor restarted on the new binary, and kept only
// when it comes up and stays up (visor-swap.ts); otherwise the previous binary is put back and the visor restarted
// on it, with the reason.
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
  log(`skywire ${version} installed; restarting the visor on it`);
  await o.restart();
  let state = swapStarted(now());
  for (;;) {
    const probe = await o.probe().catch((err: unknown) => ({
      ok: false as const,
      problem: (err as Error).message.split('\n')[0]!,
    }));
    const judged = judgeSwap(state, probe, now(), o.swap ?? DEFAULT_SWAP_POLICY);
    state = judged.state;
    if (judged.verdict.verdict === 'keep') return { outcome: 'kept', version };
    if (judged.verdict.verdict === 'fallback') {
      const reason = judged.verdict.reason;
      log(`skywire ${version} not kept: ${reason}; going back to the previous binary`);
      await fallBack(o.dir);
      await o.restart();
      return { outcome: 'fell-back', version, reason };
    }
    await sleep(o.probeEveryMs ?? 2000);
  }
}
