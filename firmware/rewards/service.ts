import { silentLogger, type Logger } from '../../drivers/logger.js';
import { transportRates, type CounterSample, type Rates } from '../skywire/bandwidth.js';
import type { Balance } from '../skywire/skycoin-client.js';
import type { VisorFigures } from '../skywire/visor-summary.js';
import { eligibility } from './eligibility.js';
import {
  checkRewardAddress,
  planRewardAddress,
  type AddressStanding,
  type AddressWay,
  type KeptAddress,
  type RewardAddressStore,
  type VisorAddressState,
} from './reward-address.js';
import type { FloorStanding } from './version-floor.js';
import { estimateRewards, type PoolRules, type RewardsEstimate } from './estimate.js';
import {
  closeDay,
  emptyLedger,
  payoutRecords,
  recordBalance,
  setToday,
  type LedgerData,
  type Payout,
} from './ledger.js';
import type { LedgerStore } from './ledger-store.js';
import { SourceHealth } from './source-health.js';
import { accrue } from './uptime.js';

export interface HypervisorSource {
  visorsSummary(): Promise<VisorFigures[]>;
  /** Sets one visor's reward address; absent: the box's address is only shown, never set. */
  setRewardAddress?(pk: string, address: string): Promise<void>;
}

export interface BalanceSource {
  balance(addresses: readonly string[]): Promise<Balance>;
}

export interface RewardsServiceOptions {
  boards: number;
  /** The local_ip board n's visor reports. */
  boardAddress: (board: number) => string;
  hypervisor: HypervisorSource;
  skycoin: BalanceSource;
  /** Where the ledger lives; without one the history is kept in memory only. */
  store?: LedgerStore;
  /** Where the box's reward address is kept; without one it lasts until a restart. */
  addressStore?: RewardAddressStore;
  minVersion: string;
  /** The UTC day minVersion applies from (ms); absent or null: in force already. */
  minVersionFromMs?: number | null;
  thresholdPct: number;
  pool: PoolRules;
  summaryPollMs: number;
  balancePollMs: number;
  staleAfterMs: number;
  /** Wall clock (UTC day position); injectable so tests move through a day without waiting. */
  now?: () => number;
  logger?: Logger;
  /** Saves of the running uptime are spaced by this much; day ends and payouts save at once. */
  saveEveryMs?: number;
  /** The address board n's own visor file holds, as its heartbeat says; none: no board reports it. */
  onBoardAddress?: (board: number) => string | null;
}

export interface BoardRewards {
  board: number;
  pk: string | null;
  localIp: string;
  online: boolean;
  uptimeTodayPct: number;
  reachablePct: number;
  onTrack: boolean;
  reasons: string[];
  rxBps: number | null;
  txBps: number | null;
  version: string | null;
  /** The version against the network's floor; `below-soon` still earns until the floor's date. */
  versionStanding: FloorStanding;
  /** Not a reason today, one from a coming date (a floor the version is below). */
  warnings: string[];
  rewardAddress: string | null;
  /** Whether the box's reward address took on this board's visor (reward-address.ts). */
  addressStanding: AddressStanding;
  /** Where it is set, which way it was seen: through the hypervisor, or on the board itself. */
  addressWay: AddressWay | null;
  /** Why setting it failed last; null when it did not. */
  addressError: string | null;
  dmsgRoundTripMs: number | null;
}

/** One board's visor as the hypervisor lists it (`listed`), or as it last did. */
export interface BoardVisor {
  board: number;
  localIp: string;
  listed: boolean;
  figures: VisorFigures | null;
}

export interface SourceView {
  ok: boolean;
  stale: boolean;
  /** Seconds since the last good answer; null before the first. */
  ageS: number | null;
  error: string | null;
}

/** Everything the panel, the console and `rewards --json` show. */
export interface RewardsView {
  atMs: number;
  boards: BoardRewards[];
  estimate: RewardsEstimate;
  balance: (Balance & { atMs: number }) | null;
  lastPayout: Payout | null;
  hypervisor: SourceView;
  skycoin: SourceView;
  stale: boolean;
  /** The network's minimum version the boards are judged against, and the day it applies from (null: now). */
  floor: { version: string; fromMs: number | null };
  /** The box's reward address as the owner chose it; null before one is chosen. */
  rewardAddress: string | null;
  /** Conditions the owner should see (a ledger started afresh). */
  alerts: string[];
}

interface BoardState {
  figures: VisorFigures | null;
  /** What the visor last said while online: kept through an outage, since it does not change by going offline. */
  known: { rewardAddress: string | null; version: string | null; dmsgConnected: boolean } | null;
  sample?: CounterSample;
  rates: Rates | null;
  /** Why the last try to set the box's reward address on this visor failed. */
  addressError: string | null;
}

/** The board numbers and their figures, as a reward address plan reads them. */
function addressStates(
  boards: Map<number, BoardState>,
  onBoard?: (board: number) => string | null,
): VisorAddressState[] {
  return [...boards].map(([board, s]) => ({
    board,
    pk: s.figures?.online ? s.figures.pk : null,
    reported: s.figures?.online ? s.figures.rewardAddress : null,
    lastError: s.addressError,
    onBoard: onBoard?.(board) ?? null,
  }));
}

/**
 * Reads the hypervisor and the Skycoin node on slow periods, keeps daily uptime and payouts in the ledger, and
 * answers `view()` at any time. A failing source leaves its last good figures in place, marked stale with their
 * age, and costs one log line per episode.
 */
export class RewardsService {
  private ledger: LedgerData = emptyLedger();
  private readonly boards = new Map<number, BoardState>();
  private readonly hv = new SourceHealth('hypervisor');
  private readonly node = new SourceHealth('skycoin node');
  private balance: (Balance & { atMs: number }) | null = null;
  private readonly alerts: string[] = [];
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private lastSaveMs = -Infinity;
  private clockBack = false;
  private address: KeptAddress | null = null;

  constructor(private readonly options: RewardsServiceOptions) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    for (let b = 1; b <= options.boards; b++)
      this.boards.set(b, { figures: null, known: null, rates: null, addressError: null });
  }

  /** Reads the ledger; `start` does this first. */
  async load(): Promise<void> {
    if (this.options.store) {
      const loaded = await this.options.store.load();
      this.ledger = loaded.data;
      if (loaded.alert) {
        this.alerts.push(loaded.alert);
        this.logger.warn(loaded.alert);
      }
    }
    if (this.options.addressStore) {
      const loaded = await this.options.addressStore.load();
      this.address = loaded.kept;
      if (loaded.alert) {
        this.alerts.push(loaded.alert);
        this.logger.warn(loaded.alert);
      }
    }
    if (this.ledger.balance) {
      const { droplets, coinHours, atMs } = this.ledger.balance;
      this.balance = { droplets, sky: droplets / 1e6, coinHours, atMs };
    }
  }

  async start(): Promise<void> {
    await this.load();
    this.running = true;
    // The balance needs the reward addresses the visors report, so its loop starts after the first summary.
    this.loop(
      () => this.pollSummary(),
      this.options.summaryPollMs,
      () =>
        this.loop(
          () => this.pollBalance(),
          // Until a visor has reported a reward address there is nothing to ask; look again soon.
          () => (this.knownAddresses().length > 0 ? this.options.balancePollMs : this.options.summaryPollMs),
        ),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.inFlight]);
    await this.save(true);
  }

  /** One read of the hypervisor: visors, uptime credit, bandwidth. */
  async pollSummary(): Promise<void> {
    let visors: VisorFigures[];
    try {
      visors = await this.options.hypervisor.visorsSummary();
    } catch (err) {
      const line = this.hv.fail(this.now(), (err as Error).message);
      if (line) this.logger.warn(`rewards: ${line}`);
      return;
    }
    const now = this.now();
    const recovered = this.hv.ok(now);
    if (recovered) this.logger.info(`rewards: ${recovered}`);
    const byIp = new Map(visors.filter((v) => v.localIp).map((v) => [v.localIp!, v]));
    let dayClosed = false;
    for (const [board, state] of this.boards) {
      const f = byIp.get(this.options.boardAddress(board)) ?? null;
      const online = f?.online ?? false;
      state.figures = f ?? (state.figures ? { ...state.figures, online: false } : null);
      if (f && online) {
        state.known = { rewardAddress: f.rewardAddress, version: f.version, dmsgConnected: f.dmsgConnected };
        const sample: CounterSample = { atMs: now, uptimeS: f.uptimeS, transports: f.transports };
        state.rates = transportRates(state.sample, sample);
        state.sample = sample;
      } else {
        state.rates = null;
        delete state.sample;
      }
      const a = accrue(this.ledger.today[String(board)], {
        nowMs: now,
        online,
        uptimeS: online ? (f?.uptimeS ?? null) : null,
      });
      if (a.closed) {
        this.ledger = closeDay(
          this.ledger,
          board,
          a.closed.day,
          a.closed.onlineMs,
          this.options.thresholdPct,
        );
        dayClosed = true;
      }
      if (a.clockWentBack && !this.clockBack) {
        this.logger.warn('rewards: the clock went backwards; uptime since the last read not credited');
      }
      this.clockBack = a.clockWentBack === true;
      this.ledger = setToday(this.ledger, board, a.next);
    }
    await this.save(dayClosed);
    await this.applyAddress();
  }

  /**
   * Chooses the box's reward address: checked, kept on disk, then set on every visor the hypervisor lists (and
   * later on any visor it lists that does not report it). Resolves with the view once the visors were read back;
   * throws a one-line error for a bad address or a failed save (then nothing changed).
   */
  async setRewardAddress(text: string): Promise<RewardsView> {
    const checked = checkRewardAddress(text);
    if (!checked.ok) throw new Error(checked.error);
    if (!this.options.hypervisor.setRewardAddress)
      throw new Error('this box cannot set reward addresses (no hypervisor to set them through)');
    const kept = { address: checked.address, setAtMs: this.now() };
    if (this.options.addressStore) {
      try {
        await this.options.addressStore.save(kept);
      } catch (err) {
        throw new Error(
          `cannot keep the reward address in ${this.options.addressStore.path}: ${(err as Error).message}`,
        );
      }
    }
    this.address = kept;
    for (const s of this.boards.values()) s.addressError = null;
    this.logger.info(`rewards: reward address set to ${kept.address}`);
    // One read sets it on every listed visor; the second reads back what each visor now reports.
    await this.pollSummary();
    await this.pollSummary();
    return this.view();
  }

  /**
   * The box's address for board n to write in its visor's own reward.txt, when the hypervisor cannot set it there
   * (the visor is not listed, or the hypervisor's try failed); null otherwise. The supervisor sends it with its
   * answer to the board's heartbeat.
   */
  onBoardAddressFor(board: number): string | null {
    const address = this.address?.address ?? null;
    if (address === null || !this.options.onBoardAddress) return null;
    const state = this.boards.get(board);
    if (!state) return null;
    const one = new Map([[board, state]]);
    const plan = planRewardAddress(address, addressStates(one, this.options.onBoardAddress));
    return plan.onBoard.includes(board) ? address : null;
  }

  /** Sets the box's address on every listed visor that does not report it (one try per read of the hypervisor). */
  private async applyAddress(): Promise<void> {
    const setter = this.options.hypervisor.setRewardAddress?.bind(this.options.hypervisor);
    if (!setter || !this.address) return;
    const address = this.address.address;
    const plan = planRewardAddress(address, addressStates(this.boards));
    for (const { board, pk } of plan.set) {
      const state = this.boards.get(board)!;
      try {
        await setter(pk, address);
        if (state.addressError !== null) this.logger.info(`rewards: reward address set on board ${board}`);
        state.addressError = null;
      } catch (err) {
        const why = (err as Error).message.split('\n')[0]!;
        if (state.addressError !== why)
          this.logger.warn(`rewards: reward address not set on board ${board}: ${why}`);
        state.addressError = why;
      }
    }
  }

  /** One read of the reward address balance; an increase is a payout. */
  async pollBalance(): Promise<void> {
    const addresses = [
      ...new Set(
        [...this.boards.values()].map((s) => s.known?.rewardAddress).filter((a): a is string => !!a),
      ),
    ];
    if (addresses.length === 0) return;
    let balance: Balance;
    try {
      balance = await this.options.skycoin.balance(addresses);
    } catch (err) {
      const line = this.node.fail(this.now(), (err as Error).message);
      if (line) this.logger.warn(`rewards: ${line}`);
      return;
    }
    const now = this.now();
    const recovered = this.node.ok(now);
    if (recovered) this.logger.info(`rewards: ${recovered}`);
    this.balance = { ...balance, atMs: now };
    const onTrack = this.view().boards.filter((b) => b.onTrack).length;
    const r = recordBalance(this.ledger, balance, now, Math.min(onTrack, this.options.pool.maxSharesPerIp));
    this.ledger = r.ledger;
    if (r.payout) this.logger.info(`rewards: payout received: ${r.payout.sky} SKY`);
    await this.save(true);
  }

  view(): RewardsView {
    const now = this.now();
    const { minVersion, minVersionFromMs, thresholdPct, staleAfterMs } = this.options;
    const boards: BoardRewards[] = [];
    const address = this.address?.address ?? null;
    const addressPlan = planRewardAddress(address, addressStates(this.boards, this.options.onBoardAddress));
    for (const [board, state] of this.boards) {
      const f = state.figures;
      const today = this.ledger.today[String(board)];
      const localIp = this.options.boardAddress(board);
      const e = eligibility({
        nowMs: now,
        onlineMs: today && today.day === dayOf(now) ? today.onlineMs : 0,
        online: f?.online ?? false,
        rewardAddress: state.known?.rewardAddress ?? null,
        dmsgConnected: state.known?.dmsgConnected ?? false,
        version: state.known?.version ?? null,
        minVersion,
        minVersionFromMs: minVersionFromMs ?? null,
        thresholdPct,
      });
      const seen = f !== null || state.known !== null;
      boards.push({
        board,
        pk: f?.pk ?? null,
        localIp,
        online: f?.online ?? false,
        uptimeTodayPct: e.uptimeTodayPct,
        reachablePct: e.reachablePct,
        onTrack: seen && e.onTrack,
        reasons: seen ? e.reasons : [`no visor seen at ${localIp}`],
        rxBps: state.rates?.rxBps ?? null,
        txBps: state.rates?.txBps ?? null,
        version: state.known?.version ?? null,
        versionStanding: e.versionStanding,
        warnings: seen && e.warning ? [e.warning] : [],
        rewardAddress: state.known?.rewardAddress ?? null,
        addressStanding: addressPlan.standing.get(board)!,
        addressWay: addressPlan.way.get(board) ?? null,
        addressError: state.addressError,
        dmsgRoundTripMs: f?.online ? f.dmsgRoundTripMs : null,
      });
    }
    const estimate = estimateRewards({
      boardsOnTrack: boards.filter((b) => b.onTrack).length,
      rules: this.options.pool,
      payouts: payoutRecords(this.ledger),
      nowMs: now,
    });
    const hypervisor = sourceView(this.hv, now, staleAfterMs);
    const skycoin = sourceView(this.node, now, Math.max(staleAfterMs, 2 * this.options.balancePollMs));
    if (this.balance === null) skycoin.stale = skycoin.error !== null;
    return {
      atMs: now,
      boards,
      estimate,
      balance: this.balance,
      lastPayout: this.ledger.payouts.at(-1) ?? null,
      hypervisor,
      skycoin,
      stale: hypervisor.stale || skycoin.stale,
      floor: { version: minVersion, fromMs: minVersionFromMs ?? null },
      rewardAddress: address,
      alerts: [...this.alerts],
    };
  }

  /**
   * Each board's visor as the hypervisor last listed it: `listed` now (its figures current) or not (its last figures,
   * if it was ever seen), with the hypervisor's own standing.
   */
  visors(): { boards: BoardVisor[]; hypervisor: SourceView } {
    const now = this.now();
    return {
      boards: [...this.boards].map(([board, s]) => ({
        board,
        localIp: this.options.boardAddress(board),
        listed: s.figures?.online ?? false,
        figures: s.figures,
      })),
      hypervisor: sourceView(this.hv, now, this.options.staleAfterMs),
    };
  }

  private knownAddresses(): string[] {
    const all = [...this.boards.values()].map((s) => s.known?.rewardAddress);
    return [...new Set(all.filter((a): a is string => !!a))];
  }

  private loop(poll: () => Promise<void>, period: number | (() => number), afterFirst?: () => void): void {
    let first = true;
    const run = (): void => {
      if (!this.running) return;
      const p = poll().catch((err: unknown) => this.logger.error(`rewards: ${(err as Error).message}`));
      this.inFlight.add(p);
      void p.finally(() => {
        this.inFlight.delete(p);
        if (!this.running) return;
        if (first) afterFirst?.();
        first = false;
        const t = setTimeout(
          () => {
            this.timers.delete(t);
            run();
          },
          typeof period === 'number' ? period : period(),
        );
        this.timers.add(t);
      });
    };
    run();
  }

  private async save(force: boolean): Promise<void> {
    const store = this.options.store;
    if (!store) return;
    const now = this.now();
    if (!force && now - this.lastSaveMs < (this.options.saveEveryMs ?? 300_000)) return;
    this.lastSaveMs = now;
    try {
      await store.save(this.ledger);
    } catch (err) {
      this.logger.error(`rewards: cannot save the ledger ${store.path}: ${(err as Error).message}`);
    }
  }
}

function dayOf(ms: number): string {
  return new Date(Math.floor(ms / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
}

function sourceView(h: SourceHealth, now: number, staleAfterMs: number): SourceView {
  return {
    ok: h.failingSinceMs === null && h.lastOkMs !== null,
    stale: h.stale(now, staleAfterMs),
    ageS: h.ageS(now),
    error: h.lastError,
  };
}
