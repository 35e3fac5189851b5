// A board's side of a box-wide visor update: it takes the manager's order (over the authenticated channel, as a
// firmware order), fetches the visor bundle from the manager into its data partition, and installs it with the same
// code as `skyminer visor-update` (visor-install.ts): checked against its own keys, architecture and running
// version, swapped in, the visor restarted on it and kept only when it comes up and stays up, else the previous
// binary put back. Every heartbeat says how far it got; nothing here reboots the board.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { reportableReason } from '../protocol/messages.js';
import type { UpdateOrder } from './board-updater.js';
import type { UpdateReport, UpdateStage } from './rollout.js';
import type { VisorBundlePolicy } from './visor-bundle.js';
import { recoverUnjudgedVisor, updateVisor, type VisorInstallOptions } from './visor-install.js';
import type { SwapPolicy } from './visor-swap.js';

export interface VisorUpdaterOptions {
  /** The visor's data folder: its binaries' slots (visor-slots.ts) and the bundle while it is fetched. */
  dir: string;
  /** Keys, architecture and the running visor's version, read when an order arrives. */
  policy: () => Promise<VisorBundlePolicy>;
  /** Opens the bundle at the manager (board-updater.ts fetchFromManager). */
  fetch(order: UpdateOrder): Promise<AsyncIterable<Buffer | Uint8Array | string>>;
  /** Restarts the visor on whatever binary is current now (the visor service's own stop and start). */
  restart: () => Promise<void>;
  /** Whether the visor answers its RPC now, or the one-line reason it does not. */
  probe: () => Promise<{ ok: true } | { ok: false; problem: string }>;
  swap?: SwapPolicy;
  probeEveryMs?: number;
  log(line: string): void;
  /** A transfer cut short is tried again this often, this many times. */
  retry?: { times: number; afterMs: number };
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export class VisorUpdater {
  private current: UpdateReport | undefined;
  private busy = false;
  private stopped = false;

  constructor(private readonly o: VisorUpdaterOptions) {}

  /**
   * Before the visor starts: a binary left on trial by a restart before its verdict is given up, and the previous
   * one put back.
   */
  async start(): Promise<void> {
    const given = await recoverUnjudgedVisor(this.o.dir);
    if (given)
      this.o.log(`skywire ${given} was still on trial when the board restarted: back on the previous binary`);
  }

  /** The latest visor update of this boot, for the heartbeat; none before an order. */
  report(): UpdateReport | undefined {
    return this.current;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Starts in the background; the report follows. The same order again, or one while another runs, is ignored. */
  install(order: UpdateOrder): void {
    if (this.busy || this.current?.order === order.order) return;
    this.busy = true;
    void this.run(order)
      .catch((err: unknown) => this.say(order, 'failed', oneLine(err)))
      .finally(() => {
        this.busy = false;
      });
  }

  private say(order: UpdateOrder, stage: UpdateStage, reason?: string): void {
    this.current = {
      order: order.order,
      version: order.version,
      stage,
      ...(reason ? { reason: reportableReason(reason) } : {}),
    };
  }

  private async run(order: UpdateOrder): Promise<void> {
    this.say(order, 'installing');
    await mkdir(this.o.dir, { recursive: true });
    const file = join(this.o.dir, 'incoming.visor-bundle');
    try {
      const fetched = await this.fetch(order, file);
      if (fetched !== 'done') {
        this.say(order, 'failed', fetched.message);
        this.o.log(`visor update failed: ${fetched.message}`);
        return;
      }
      if (this.stopped) return;
      const install: VisorInstallOptions = {
        bundle: file,
        dir: this.o.dir,
        policy: await this.o.policy(),
        // The first restart is the swap: the new binary is current, and on trial from here.
        restart: async () => {
          if (this.current?.stage === 'installing') this.say(order, 'installed');
          await this.o.restart();
        },
        probe: this.o.probe,
        ...(this.o.swap ? { swap: this.o.swap } : {}),
        ...(this.o.probeEveryMs !== undefined ? { probeEveryMs: this.o.probeEveryMs } : {}),
        log: (line) => this.o.log(line),
        abandoned: () => this.stopped,
      };
      const result = await updateVisor(install);
      switch (result.outcome) {
        case 'refused':
          this.say(order, 'refused', result.reason);
          this.o.log(`visor update refused: ${result.reason}; the running visor is untouched`);
          return;
        case 'already':
        case 'kept':
          this.say(order, 'committed');
          this.o.log(`skywire ${result.version} runs and is kept`);
          return;
        case 'fell-back':
          this.say(order, 'rolled-back', result.reason);
          this.o.log(`skywire ${result.version} not kept: ${result.reason}; back on the previous binary`);
          return;
      }
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Copies the bundle from the manager to `file`; a transfer cut short is tried again, then reported. */
  private async fetch(order: UpdateOrder, file: string): Promise<'done' | { message: string }> {
    const retry = this.o.retry ?? { times: 5, afterMs: 3000 };
    for (let attempt = 1; ; attempt++) {
      try {
        const source = await this.o.fetch(order);
        await pipeline(Readable.from(source), createWriteStream(file, { mode: 0o600 }));
        return 'done';
      } catch (err) {
        const message = oneLine(err);
        if (attempt > retry.times || this.stopped) return { message: `fetching the bundle: ${message}` };
        this.o.log(`visor update: ${message}; trying again in ${Math.round(retry.afterMs / 1000)} s`);
        await new Promise((r) => setTimeout(r, retry.afterMs));
      }
    }
  }
}
