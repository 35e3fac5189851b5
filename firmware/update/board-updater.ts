// A board's side of a box-wide update: it takes the manager's order (over the authenticated channel), fetches the
// bundle from the manager, checks and installs it with the same code as `skyminer update`, and says in every
// heartbeat how far it got. The bundle is signed, so where its bytes come from does not matter: the board trusts
// only its own keys. Its trial boot commits once the manager acknowledges its heartbeats (trial-health.ts).
import { Readable } from 'node:stream';
import { reportableReason } from '../protocol/messages.js';
import { BundleRefused, type BundlePolicy } from './bundle.js';
import { updateState, type UpdateRecord } from './decision.js';
import { installBundle, readRecord, UpdateError, writeRecord, type SlotDevices } from './install.js';
import type { FirmwareReport, UpdateStage } from './rollout.js';
import { trialHealth, type ManagerProof } from './trial-health.js';
import { EnvError, readEnv, type EnvStore } from './uboot-env.js';
import { watchBoot } from './watch.js';

/** The manager's order: which rollout, which version, and where on the manager the bundle is served. */
export interface UpdateOrder {
  order: string;
  version: string;
  port: number;
  path: string;
  /** A visor bundle (update/visor-updater.ts); none: a firmware bundle. */
  kind?: 'visor';
}

/** What the agent asks of the board's update machinery; none where the board cannot update itself. */
export interface BoardUpdater {
  /** Read at start (slots, environment, last update); the heartbeats carry `report()` from then on. */
  start(): Promise<void>;
  stop(): void;
  report(): FirmwareReport | undefined;
  /** Starts fetching and installing in the background; the report follows. A second order while one runs is ignored. */
  install(order: UpdateOrder): void;
  /** The manager acknowledged a heartbeat of this trial boot (its `commit` order): the watch may commit the slot. */
  commit(): void;
  /** The checks failing at the agent's latest heartbeat: while unacknowledged, they say why (trial-health.ts). */
  checked(failing: readonly string[]): void;
  /**
   * While an install runs, a count that rises as it gets on (pieces written, flushed, read back); none otherwise.
   * The agent keeps petting its watchdog while it rises (agent/pet.ts).
   */
  progress?(): number | undefined;
}

export interface SlotUpdaterOptions {
  env: EnvStore;
  slots: SlotDevices;
  /** The version of the running slot. */
  version: string;
  policy: BundlePolicy;
  recordFile: string;
  /** Opens the bundle at the manager (the order's port and path on the manager's address). */
  fetch(order: UpdateOrder): Promise<AsyncIterable<Buffer | Uint8Array | string>>;
  /** Reboots the board: the trial boot's watch gives up this way. */
  reboot(): void;
  now(): number;
  log(line: string): void;
  /**
   * Runs the trial boot's health watch here (the simulator), judged by trial-health.ts from this agent's
   * acknowledgement and, on the manager's board, `manager` (its supervisor and panel). A device runs the watch as
   * its own boot service (`skyminer update watch`) and this only records the acknowledgement (`acknowledged`).
   */
  watch?: {
    limitMs: number;
    pollMs: number;
    sleep(ms: number): Promise<void>;
    manager?: () => ManagerProof;
  };
  /** Records that the manager acknowledged this boot where the device's watch reads it (boot-proof.ts). */
  acknowledged?: () => Promise<void>;
  /** Records the checks failing at a trial boot's heartbeat, when they change, for the device's watch. */
  checksFailing?: (failing: readonly string[]) => Promise<void>;
  /** A transfer cut short (the manager restarting, the network) is tried again this often, this many times. */
  retry?: { times: number; afterMs: number };
}

/** The stage a board reports from its update record (the record survives the reboot; the order in it too). */
function recordStage(r: UpdateRecord): UpdateStage {
  switch (r.stage) {
    case 'installed':
    case 'booted':
      return 'installed';
    case 'gave-up':
      return 'failed';
    case 'committed':
      return 'committed';
    case 'rolled-back':
      return 'rolled-back';
  }
}

/** The update record as this module writes it: the order that asked for it rides along. */
type OrderedRecord = UpdateRecord & { order?: string };

export class SlotUpdater implements BoardUpdater {
  private current: FirmwareReport | undefined;
  /** An update of this boot that has not reached the record (under way, or refused before writing anything). */
  private live: NonNullable<FirmwareReport['update']> | undefined;
  private busy = false;
  private steps = 0;
  private acked = false;
  private recording = false;
  /** The checks failing at the latest heartbeat of a trial boot, and the list last recorded for the watch. */
  private failing: readonly string[] = [];
  private failingRecorded: string | undefined;
  private checksUnrecorded = false;
  private trying = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: SlotUpdaterOptions) {}

  async start(): Promise<void> {
    if (this.o.watch) {
      // A boot back from a failed try is reported with its reason from the first heartbeat on.
      const state = updateState(await readEnv(this.o.env).catch(() => ({})), this.o.slots.booted);
      if (state.kind === 'rolled-back') await this.runWatch();
      else void this.runWatch();
    } else {
      // The boot service (`skyminer update watch`) commits or reports a rollback beside this: read it again now and then.
      this.timer = setInterval(() => void this.refresh(), 5000);
      this.timer.unref();
    }
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  report(): FirmwareReport | undefined {
    return this.current;
  }

  progress(): number | undefined {
    return this.busy ? this.steps : undefined;
  }

  private async refresh(): Promise<void> {
    const env = await readEnv(this.o.env).catch(() => ({}));
    const state = updateState(env, this.o.slots.booted);
    this.trying = state.kind === 'trying';
    const record = (await readRecord(this.o.recordFile)) as OrderedRecord | undefined;
    const fromRecord =
      record?.order !== undefined
        ? {
            order: record.order,
            version: record.version,
            stage: recordStage(record),
            ...(record.reason ? { reason: reportableReason(record.reason) } : {}),
          }
        : undefined;
    this.current = {
      version: this.o.version,
      slot: this.o.slots.booted,
      trying: this.trying,
      ...((this.live ?? fromRecord) ? { update: this.live ?? fromRecord } : {}),
    };
  }

  /** The simulator's trial boot: the real watch, judged as on a device from what this boot has shown. */
  private async runWatch(): Promise<void> {
    const w = this.o.watch!;
    await watchBoot({
      env: this.o.env,
      booted: this.o.slots.booted,
      recordFile: this.o.recordFile,
      limitMs: w.limitMs,
      pollMs: w.pollMs,
      now: this.o.now,
      sleep: w.sleep,
      healthy: async () => {
        if (this.stopped) throw new Error('stopped');
        return trialHealth({
          role: w.manager ? 'manager' : 'board',
          acknowledged: this.acked,
          failing: this.failing,
          ...(w.manager ? { manager: w.manager() } : {}),
        });
      },
      reboot: async () => this.o.reboot(),
      log: this.o.log,
    }).catch(() => {});
    await this.refresh();
  }

  install(order: UpdateOrder): void {
    if (this.busy) return;
    // The same order again (its acknowledgement was lost): the report already answers it.
    if (this.current?.update?.order === order.order) return;
    this.busy = true;
    void this.run(order).finally(() => {
      this.busy = false;
    });
  }

  private async run(order: UpdateOrder): Promise<void> {
    const say = (stage: UpdateStage, reason?: string) => {
      this.live = {
        order: order.order,
        version: order.version,
        stage,
        ...(reason ? { reason: reportableReason(reason) } : {}),
      };
      this.current = { ...(this.current ?? { version: this.o.version, trying: false }), update: this.live };
    };
    say('installing');
    const retry = this.o.retry ?? { times: 5, afterMs: 3000 };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(order, say);
      if (outcome === 'done' || this.stopped) return;
      if (attempt > retry.times) {
        say('failed', outcome.message);
        this.o.log(`update failed: ${outcome.message}`);
        return;
      }
      this.o.log(`update: ${outcome.message}; trying again in ${Math.round(retry.afterMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, retry.afterMs));
    }
  }

  /** One fetch and install; a transfer error comes back to be tried again, a refusal or an install error is final. */
  private async attempt(
    order: UpdateOrder,
    say: (stage: UpdateStage, reason?: string) => void,
  ): Promise<'done' | { message: string }> {
    try {
      const result = await installBundle(await this.o.fetch(order), {
        env: this.o.env,
        slots: this.o.slots,
        policy: this.o.policy,
        runningVersion: this.o.version,
        recordFile: this.o.recordFile,
        now: this.o.now,
        log: this.o.log,
        progress: () => {
          this.steps++;
        },
      });
      // The order joins the record, so the next boot still says which rollout its outcome belongs to.
      const record = await readRecord(this.o.recordFile);
      if (record) await writeRecord(this.o.recordFile, { ...record, order: order.order } as OrderedRecord);
      say('installed');
      this.o.log(
        `firmware ${result.manifest.firmware} installed in slot ${result.slot}; waiting for the manager's word to reboot`,
      );
      return 'done';
    } catch (err) {
      const message = (err as Error).message.split('\n')[0]!;
      if (err instanceof BundleRefused) say('refused', message);
      else if (err instanceof UpdateError || err instanceof EnvError) say('failed', message);
      else return { message };
      this.o.log(`update ${err instanceof BundleRefused ? 'refused' : 'failed'}: ${message}`);
      return 'done';
    }
  }

  checked(failing: readonly string[]): void {
    if (!this.trying || this.acked) return;
    this.failing = failing;
    const key = failing.join(',');
    if (this.o.watch || !this.o.checksFailing || key === this.failingRecorded) return;
    this.failingRecorded = key;
    void this.o.checksFailing(failing).catch((err: Error) => {
      // Tried again at the next heartbeat; said once, not at every heartbeat.
      this.failingRecorded = undefined;
      if (!this.checksUnrecorded) this.o.log(`the failing checks not recorded: ${err.message}`);
      this.checksUnrecorded = true;
    });
  }

  commit(): void {
    if (!this.trying || this.recording) return;
    if (this.o.watch) {
      this.acked = true;
      return;
    }
    // Only recorded: the boot's watch commits, and on the manager it also waits for the supervisor and the panel.
    // A failed write is tried again at the manager's next acknowledgement.
    this.recording = true;
    void (this.o.acknowledged?.() ?? Promise.resolve())
      .then(
        () => {
          if (!this.acked) this.o.log('the manager acknowledged this trial boot');
          this.acked = true;
        },
        (err: Error) => this.o.log(`the manager's acknowledgement not recorded: ${err.message}`),
      )
      .finally(() => {
        this.recording = false;
      });
  }
}

/** The bundle as the manager serves it: plain HTTP on the box's own network (the bundle carries its own proof). */
export function fetchFromManager(host: string): SlotUpdaterOptions['fetch'] {
  return async (order) => {
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${order.port}${order.path}`;
    const res = await fetch(url).catch((err: Error) => {
      throw new Error(`${url}: ${err.message}`);
    });
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  };
}
