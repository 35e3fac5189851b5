// At every boot: a trial boot of a new slot commits once the board is healthy, or gives up at the time limit and
// reboots (the boot script then falls back); a boot that came back after a failed try reports the rollback and why.
import {
  commitChanges,
  ENV,
  healthDecision,
  rollbackReason,
  updateState,
  type Slot,
  type UpdateState,
} from './decision.js';
import { readRecord, writeRecord } from './install.js';
import { readEnv, updateEnv, type EnvStore } from './uboot-env.js';

export interface Health {
  ok: boolean;
  /** What is missing, for the record when the try gives up. */
  detail: string;
}

export interface WatchContext {
  env: EnvStore;
  booted: Slot;
  recordFile: string;
  limitMs: number;
  pollMs: number;
  now(): number;
  sleep(ms: number): Promise<void>;
  healthy(): Promise<Health>;
  reboot(): Promise<void>;
  log(line: string): void;
}

export type WatchOutcome = 'steady' | 'committed' | 'gave-up' | 'rolled-back';

export async function watchBoot(ctx: WatchContext): Promise<WatchOutcome> {
  const state: UpdateState = updateState(await readEnv(ctx.env), ctx.booted);
  const record = await readRecord(ctx.recordFile);
  if (state.kind === 'rolled-back') {
    const reason = rollbackReason(state.failed, record);
    if (record && record.slot === state.failed)
      await writeRecord(ctx.recordFile, { ...record, stage: 'rolled-back', reason, at: ctx.now() });
    await updateEnv(ctx.env, { [ENV.fallback]: undefined });
    ctx.log(`update rolled back: ${reason}`);
    return 'rolled-back';
  }
  if (state.kind === 'steady') return 'steady';
  const startedAt = ctx.now();
  if (record && record.slot === state.slot)
    await writeRecord(ctx.recordFile, { ...record, stage: 'booted', at: startedAt });
  ctx.log(
    `trial boot of slot ${state.slot}: commits once healthy, within ${Math.round(ctx.limitMs / 1000)} s`,
  );
  for (;;) {
    const h = await ctx.healthy();
    const d = healthDecision({ startedAt, now: ctx.now(), limitMs: ctx.limitMs, healthy: h.ok });
    if (d === 'commit') {
      await updateEnv(ctx.env, commitChanges(state.slot));
      if (record && record.slot === state.slot)
        await writeRecord(ctx.recordFile, { ...record, stage: 'committed', at: ctx.now() });
      ctx.log(`slot ${state.slot} committed${record ? `: firmware ${record.version}` : ''}`);
      return 'committed';
    }
    if (d === 'give-up') {
      if (record && record.slot === state.slot)
        await writeRecord(ctx.recordFile, { ...record, stage: 'gave-up', reason: h.detail, at: ctx.now() });
      ctx.log(
        `slot ${state.slot} not healthy after ${Math.round(ctx.limitMs / 1000)} s (${h.detail}): rebooting to fall back`,
      );
      await ctx.reboot();
      return 'gave-up';
    }
    await ctx.sleep(ctx.pollMs);
  }
}
