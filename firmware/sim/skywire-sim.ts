import type { ManagerHardware } from '../compose/manager.js';
import { ledgerPath, visorAddress } from '../rewards/from-config.js';
import type { Config } from '../config/schema.js';
import { utcDay } from '../rewards/day.js';
import type { RewardsService } from '../rewards/service.js';
import { EmulatedHypervisor } from '../skywire/emulated-hypervisor.js';
import { EmulatedSkycoinNode } from '../skywire/emulated-skycoin-node.js';
import { EmulatedVisor, emulatedPk } from '../skywire/emulated-visor.js';
import { hypervisorPasswordControl, readHypervisorPassword } from '../skywire/hypervisor-account.js';
import { HypervisorClient } from '../skywire/hypervisor-client.js';
import { writeFileAtomic } from '../lib/files.js';
import { SkycoinClient } from '../skywire/skycoin-client.js';
import type { EmulatedBoardState } from './emulated-board.js';

export interface SkywireSimOptions {
  /** An external hypervisor instead of the emulated one (credentials may ride in the URL). */
  hypervisorUrl?: string;
  /** An external Skycoin node instead of the emulated one. */
  skycoinUrl?: string;
  /** The clock for the day position, visor uptime and traffic; injectable so tests cross a day quickly. */
  now?: () => number;
  /** How often the emulated visors follow the boards. */
  followMs?: number;
  summaryPollMs?: number;
  balancePollMs?: number;
  /** The ledger file; null keeps the history in memory only. Default: in memory. */
  ledgerPath?: string | null;
  /**
   * Where the emulated hypervisor's password is kept, as the manager keeps the real one's: read at each login and
   * changed with `skywire password set`. None: a fixed password, and no `skywire password`.
   */
  passwordFile?: string;
}

/** The part of the simulator the Skywire side reads: what each emulated board is really doing, and the rewards. */
export interface BoardStates {
  emulatedState(board: number): EmulatedBoardState;
  /** The manager's rewards service running now, whose estimate the emulated node pays out. */
  readonly rewards: RewardsService | undefined;
}

/** The reward address the emulated visors report. */
export const SIM_REWARD_ADDRESS = 'SkyminerSimRewardAddr1111111111111';
const SIM_USERNAME = 'admin';
// A password the real hypervisor's rules accept (upper, lower, digit, special): 'skywire' is refused.
const SIM_PASSWORD = 'Skyminer-sim1';

/** Board n's visor address: from the config, else network.first_board_address + (n - 1). */
/** Board n's visor address (see rewards/from-config.ts). */
export const boardAddress = visorAddress;

/**
 * The Skywire side of the simulated box: an emulated hypervisor whose visors follow the emulated boards (a board
 * whose software is not running has its visor offline; a reboot restarts the visor, its uptime and its counters),
 * and an emulated Skycoin node that pays the box at each UTC midnight. The manager's real rewards service reads
 * both through `endpoints`, as it reads a real hypervisor and node.
 */
export class SkywireSim {
  readonly visors: EmulatedVisor[] = [];
  readonly hypervisor: EmulatedHypervisor | null = null;
  readonly node: EmulatedSkycoinNode | null = null;
  /** The hypervisor and node as the manager's composition takes them (firmware/compose/manager.ts). */
  readonly endpoints: NonNullable<ManagerHardware['skywire']>;
  private readonly now: () => number;
  private readonly followMs: number;
  private hypervisorClient: HypervisorClient | null = null;
  private skycoinClient: SkycoinClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFollowMs: number | null = null;
  private lastDay: string;
  private onTrackBefore = 0;

  constructor(
    private readonly boards: BoardStates,
    private readonly config: Config,
    private readonly options: SkywireSimOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.followMs = options.followMs ?? 1000;
    this.lastDay = utcDay(this.now());
    const n = config.box.boards;
    for (let board = 1; board <= n; board++) {
      this.visors.push(
        new EmulatedVisor({
          pk: emulatedPk(`skyminer-sim/board-${board}`),
          localIp: boardAddress(config, board),
          rewardAddress: SIM_REWARD_ADDRESS,
          isHypervisor: board === 1,
        }),
      );
    }
    if (!options.hypervisorUrl) {
      this.hypervisor = new EmulatedHypervisor({
        visors: () => this.visors,
        now: this.now,
        username: SIM_USERNAME,
        password: SIM_PASSWORD,
      });
    }
    if (!options.skycoinUrl) this.node = new EmulatedSkycoinNode();
    this.endpoints = {
      hypervisor: {
        visorsSummary: () => this.started(this.hypervisorClient).visorsSummary(),
        setRewardAddress: (pk, address) => this.started(this.hypervisorClient).setRewardAddress(pk, address),
      },
      skycoin: { balance: (a) => this.started(this.skycoinClient).balance(a) },
      ledger: options.ledgerPath ?? null,
      now: this.now,
      ...(options.passwordFile && !options.hypervisorUrl
        ? {
            password: hypervisorPasswordControl(
              () => this.started(this.hypervisor?.url ?? null),
              options.passwordFile,
              config.skywire.request_timeout_ms,
            ),
          }
        : {}),
      ...(options.summaryPollMs !== undefined ? { summaryPollMs: options.summaryPollMs } : {}),
      ...(options.balancePollMs !== undefined ? { balancePollMs: options.balancePollMs } : {}),
    };
  }

  async start(): Promise<void> {
    const timeoutMs = this.config.skywire.request_timeout_ms;
    this.follow();
    if (this.hypervisor) {
      const file = this.options.passwordFile;
      // A password kept from an earlier run is the account's again; a first run stores the simulator's.
      if (file) {
        if ((await readHypervisorPassword(file)) === null)
          await writeFileAtomic(file, `${SIM_PASSWORD}\n`, 0o600);
        this.hypervisor.setPassword((await readHypervisorPassword(file))!);
      }
      await this.hypervisor.start();
      this.hypervisorClient = new HypervisorClient({
        url: this.hypervisor.url,
        username: SIM_USERNAME,
        password: file ? () => readHypervisorPassword(file).then((p) => p ?? '') : SIM_PASSWORD,
        timeoutMs,
      });
    } else {
      this.hypervisorClient = new HypervisorClient({
        url: this.options.hypervisorUrl!,
        username: this.config.skywire.username,
        password: this.config.skywire.password,
        timeoutMs,
      });
    }
    if (this.node) await this.node.start();
    this.skycoinClient = new SkycoinClient({ url: this.options.skycoinUrl ?? this.node!.url, timeoutMs });
    this.timer = setInterval(() => this.follow(), this.followMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.hypervisor?.stop();
    await this.node?.stop();
  }

  /**
   * Brings every visor in line with its board now: started when the board's software runs, stopped when not,
   * traffic added for the time since the last call, and the day's payout credited when a UTC day has ended.
   */
  follow(): void {
    const now = this.now();
    const dt = this.lastFollowMs === null ? 0 : Math.max(0, now - this.lastFollowMs);
    this.lastFollowMs = now;
    this.visors.forEach((visor, i) => {
      const board = i + 1;
      // The board's visor service starts its visor (firmware/sim/sim-visor.ts); a board that is off has none.
      const running = this.boards.emulatedState(board) === 'running';
      if (!running && visor.online) visor.stop(now);
      // Some tens of kB/s, different per board, so the boards' figures can be told apart.
      const s = dt / 1000;
      if (visor.online && s > 0) visor.carry((20_000 + 7_000 * board) * s, (8_000 + 3_000 * board) * s);
    });
    const day = utcDay(now);
    const rewards = this.boards.rewards?.view();
    if (day !== this.lastDay && this.node && this.onTrackBefore > 0 && rewards) {
      const perShare = rewards.estimate.perShareDay;
      this.node.credit(
        SIM_REWARD_ADDRESS,
        Math.round(perShare * this.onTrackBefore * 1e6),
        24 * this.onTrackBefore,
      );
    }
    this.lastDay = day;
    this.onTrackBefore = rewards?.boards.filter((b) => b.onTrack).length ?? 0;
  }

  /** Board n's emulated visor and the clock it counts by, for the board's visor stand-in (sim-visor.ts). */
  visorOf(board: number): { emulated: EmulatedVisor | undefined; now: () => number } {
    return { emulated: this.visors[board - 1], now: this.now };
  }

  private started<T>(client: T | null): T {
    if (client === null) throw new Error('skywire simulation not started');
    return client;
  }
}

/** The simulator's default ledger location under the state folder. */
export const simLedgerPath = ledgerPath;
