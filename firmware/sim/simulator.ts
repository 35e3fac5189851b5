import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { EmulatedI2cBus } from '../../drivers/i2c/emulated-bus.js';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { EmulatedWatchdog } from '../../drivers/watchdog/emulated.js';
import type { Agent } from '../agent/agent.js';
import { deriveAttachKey } from '../auth/attach-key.js';
import { BoxKeys, deriveBoardKey, generateBoxSecret } from '../auth/keys.js';
import { composeBoard, type BoardSoftware, type BoardVisorHardware } from '../compose/board.js';
import { composeManager, type ManagerSoftware } from '../compose/manager.js';
import type { Config } from '../config/schema.js';
import type { ControlServer } from '../control/server.js';
import type { AttachCommand } from '../control/sources.js';
import type { Panel } from '../panel/panel.js';
import { bindUdp } from '../protocol/datagrams.js';
import type { RewardsService } from '../rewards/service.js';
import type { EventSink, SupervisorEvent } from '../supervisor/event-log.js';
import type { BoardLines, Supervisor } from '../supervisor/supervisor.js';
import {
  EmulatedBoard,
  type BoardSoftware as EmulatedBoardSoftware,
  type EmulatedBoardState,
} from './emulated-board.js';
import { HEALTHY_DISK_REPORT, SATA_BOARDS, SimBoardHardware } from './board-hardware.js';
import { faultyLink, type LinkFaults } from './link-faults.js';
import { SimVisorHost, type SimVisorDisk } from './sim-visor.js';
import { SkywireSim, type SkywireSimOptions } from './skywire-sim.js';
import { EmulatedSlots, type TrialFault } from './emulated-slots.js';
import { SlotUpdater } from '../update/board-updater.js';
import type { RolloutLimits } from '../update/rollout.js';
import type { RolloutLoop } from '../supervisor/rollout-loop.js';
import type { VisorArch } from '../update/visor-bundle.js';
import type { SwapPolicy } from '../update/visor-swap.js';

export interface SimulatorOptions {
  config: Config;
  /** Time from power-on to the agent running. */
  bootMs: number;
  i2cTrace?: string;
  logger?: Logger;
  events?: EventSink;
  /** Emulated (or external) Skywire hypervisor and Skycoin node with the rewards service; none when absent. */
  skywire?: SkywireSimOptions;
  /** Where the supervisor keeps its state; none keeps nothing across its restarts. */
  stateFile?: string;
  /** SATA disks at start and the smartctl report each answers with; default a healthy disk on boards 1 to 4. */
  disks?: { board: number; disk: string; report: string }[];
  /** The manager's control socket (the console's way in); none by default. */
  control?: { path: string };
  /**
   * Box-wide updates: every board gets two emulated root slots and a U-Boot environment under `dir`, starting on
   * `version`, and trusts `keys` for bundles of `profile`. None: boards report no firmware.
   */
  update?: SimUpdateOptions;
  /**
   * Where each board's visor runs instead of the stand-in: the real-Skywire tests pass real visors (a `skywire`
   * per board in a network namespace), so the same compositions set them up and watch them.
   */
  visors?: (board: number) => BoardVisorHardware;
  /**
   * How the workers get their keys: `join` as a card flashed from a generic image, each board claiming its key in
   * the window its power-on opens and keeping it across boots; `box-secret` (default) as a per-box image, whose
   * boards are up one boot time after power-on, which the supervision tests and benches time from.
   */
  enrolment?: 'join' | 'box-secret';
  /** The join window; default three boot times (at least 1 s), so a board's first claim falls well inside. */
  joinWindowMs?: number;
}

export interface SimUpdateOptions {
  dir: string;
  keys: ReadonlyMap<string, KeyObject>;
  profile: string;
  version: string;
  /** The rollout's limits on the manager. */
  limits?: RolloutLimits;
  /** How long a board's trial boot waits for the manager's acknowledgement before it gives up and falls back. */
  trialLimitMs?: number;
  tickMs?: number;
  /**
   * Visor bundles: the boards' architecture (default arm64), and how long a swapped-in visor has to come up and
   * stay up (default: up for 1.5 s within 8 s). Each board keeps its visor binaries under `dir` too.
   */
  visorArch?: VisorArch;
  /** A board of another model than the box's (a board swapped in from another box): its own architecture. */
  visorArchOf?: (board: number) => VisorArch | undefined;
  visorSwap?: SwapPolicy;
}

/** Board n's lines on the emulated chip: power at 2(n-2), reset at 2(n-2)+1. The manager has none. */
export function simLineOffsets(board: number): { power: number; reset: number } {
  return { power: 2 * (board - 2), reset: 2 * (board - 2) + 1 };
}

/**
 * A whole Skyminer in one process: emulated GPIO, I2C bus with an SSD1306 on it, and boards; the same two
 * compositions as on a box (firmware/compose: the manager's software and every board's) run on top, talking over
 * real UDP sockets on loopback, authenticated with keys derived from a box secret drawn for this run: baked in, or
 * handed to each worker by the manager when it first joins (zero-touch enrolment, `enrolment: 'join'`).
 */
export class Simulator {
  readonly chip: EmulatedGpioChip;
  readonly bus: EmulatedI2cBus;
  readonly oled: Ssd1306Model;
  readonly boards: EmulatedBoard[] = [];
  /** The manager's own watchdog: when it fires, the manager (and so the supervisor) restarts. */
  readonly managerWatchdog: EmulatedWatchdog;
  /** Each board's Skywire keys and config: kept across its boots, as on the data partition. */
  private readonly visorDisks = new Map<number, SimVisorDisk>();
  /** Each board's visor stand-in in its current boot (the simulator's faults reach the visor through it). */
  readonly visorHosts = new Map<number, SimVisorHost>();
  /** Each board's network, for faults: cut or delayed. */
  readonly links = new Map<number, LinkFaults>();
  /** Until when the manager's uplink is down (a switch or router reboot), as its kernel tables would show. */
  uplinkDownUntil = 0;
  /** The agent running on each board now (a new one every boot). */
  readonly agents = new Map<number, Agent>();
  readonly epochMs = Date.now();
  private manager: ManagerSoftware;
  private readonly lines = new Map<number, BoardLines>();
  private readonly boxSecret = generateBoxSecret();
  /** What each board keeps on its data partition across boots: its key, once it has joined. */
  readonly keptKeys = new Map<number, Buffer>();
  /** Each board's kernel view and disks, below the firmware; ready once `start()` resolved. */
  hardware: SimBoardHardware | null = null;
  private readonly logger: Logger;
  private readonly boardStates = new Map<number, EmulatedBoardState>();
  skywire: SkywireSim | null = null;
  private readonly stateListeners = new Set<(board: number, state: EmulatedBoardState) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Each board's emulated slots and U-Boot environment (with `update`). */
  readonly slots = new Map<number, EmulatedSlots>();
  /** The version each board booted last, and whether that boot was a trial of a new slot. */
  readonly running = new Map<number, { version: string; trial: boolean }>();
  /** Boards whose installed visor binaries die this long after each start (a build that does not run there). */
  readonly visorFaults = new Map<number, number>();
  /** How a board's next trial boot goes wrong, once (then cleared). */
  readonly trialFaults = new Map<number, TrialFault>();
  private updatePort = 0;

  constructor(private readonly options: SimulatorOptions) {
    const { config } = options;
    const n = config.box.boards;
    this.logger = options.logger ?? silentLogger;
    this.chip = new EmulatedGpioChip('gpiochip0', Math.max(32, 2 * n));
    this.bus = new EmulatedI2cBus();
    if (options.i2cTrace) this.bus.traceTo(options.i2cTrace);
    this.oled = new Ssd1306Model(128, config.panel.height);
    this.bus.attach(config.panel.address, this.oled);

    for (let board = 2; board <= n; board++) {
      const o = simLineOffsets(board);
      this.lines.set(board, {
        power: this.chip.request({ chip: this.chip.label, offset: o.power }),
        reset: this.chip.request({ chip: this.chip.label, offset: o.reset, activeLow: true }),
      });
    }
    for (let board = 1; board <= n; board++)
      this.links.set(board, { cutUntil: 0, delayMs: 0, delayUntil: 0 });
    this.managerWatchdog = new EmulatedWatchdog(() => {
      this.logger.error('manager watchdog expired: the manager restarts');
      void this.restartSupervisor(0);
    });
    this.manager = this.makeManager();
  }

  /** The supervisor running now (a power loss or a manager watchdog reset starts a new one). */
  get supervisor(): Supervisor {
    return this.manager.supervisor;
  }

  /** The manager's front panel running now. */
  get panel(): Panel {
    const panel = this.manager.panel;
    if (!panel) throw new Error('the simulated manager runs no panel (panel.enabled is false)');
    return panel;
  }

  /** The manager's control socket running now; none unless asked for. */
  get control(): ControlServer | undefined {
    return this.manager.control;
  }

  /** The manager's box-wide updates running now; none without `update`. */
  get rollout(): RolloutLoop | undefined {
    return this.manager.rollout;
  }

  /** The rewards figures (per board and for the box) for the panel and the console; none without Skywire. */
  get rewards(): RewardsService | undefined {
    return this.manager.rewards;
  }

  /** The manager's software on emulated hardware; a restarted one listens on its predecessor's port, as on a box. */
  private makeManager(port = 0): ManagerSoftware {
    const { config } = this.options;
    return composeManager({
      config,
      keyFor: new BoxKeys(this.boxSecret, config.box.boards).keyFor,
      logger: this.logger,
      ...(this.options.events ? { events: this.options.events } : {}),
      ...(this.options.stateFile ? { stateFile: this.options.stateFile } : {}),
      epochMs: this.epochMs,
      ...(this.options.control ? { control: { path: this.options.control.path, group: null } } : {}),
      join: {
        windowMs: this.options.joinWindowMs ?? Math.max(1000, 3 * this.options.bootMs),
        attachLine: deriveAttachKey(this.boxSecret).publicLine,
      },
      hardware: {
        lines: this.lines,
        watchdog: this.managerWatchdog,
        openPanelBus: () => Promise.resolve(this.bus),
        network: { listen: { host: '127.0.0.1', port } },
        uplink: () => this.uplink(),
        ...(this.skywire ? { skywire: this.skywire.endpoints } : {}),
        attach: simulatedAttach,
        ...(this.options.update ? { update: this.managerUpdate(this.options.update) } : {}),
      },
    });
  }

  private managerUpdate(u: SimUpdateOptions) {
    return {
      // The manager checks a bundle as its own board would: the same keys, profile and running version.
      policy: async () => ({
        keys: u.keys,
        profile: u.profile,
        runningVersion: this.running.get(1)?.version ?? u.version,
      }),
      visorArch: u.visorArch ?? ('arm64' as const),
      dir: join(u.dir, 'manager'),
      serve: { host: '127.0.0.1', port: this.updatePort },
      ...(u.limits ? { limits: u.limits } : {}),
      ...(u.tickMs ? { tickMs: u.tickMs } : {}),
    };
  }

  /** The manager resets (its watchdog, a crash): its software starts again after `afterMs`, the boards run on. */
  resetManager(afterMs = this.options.bootMs): Promise<void> {
    return this.restartSupervisor(afterMs);
  }

  /** The manager's uplink, judged as telemetry/uplink.ts would judge the simulated tables. */
  uplink(): { state: 'up' | 'down'; reason: string } {
    return Date.now() < this.uplinkDownUntil
      ? { state: 'down', reason: 'gateway 192.168.0.1 not answering' }
      : { state: 'up', reason: 'via 192.168.0.1 on eth0' };
  }

  async start(): Promise<void> {
    const { config, bootMs } = this.options;
    const hardware = await SimBoardHardware.create(config.box.boards);
    this.hardware = hardware;
    for (const d of this.options.disks ?? defaultDisks(config.box.boards)) {
      await hardware.addDisk(d.board, d.disk, d.report);
    }
    if (this.options.skywire) {
      // The emulated hypervisor and node are the manager's surroundings: up before its rewards service reads them.
      this.skywire = new SkywireSim(this, config, this.options.skywire);
      await this.skywire.start();
      this.manager = this.makeManager();
    }
    const u = this.options.update;
    if (u) {
      for (let board = 1; board <= config.box.boards; board++)
        this.slots.set(board, await EmulatedSlots.create(join(u.dir, `board-${board}`), u.version));
      // One port for the bundle across manager restarts, as a box's config fixes it: a board mid-transfer finds it again.
      this.updatePort = await freePort();
      this.manager = this.makeManager();
    }
    await this.manager.start();
    for (let board = 1; board <= config.box.boards; board++) {
      const offsets = board === 1 ? undefined : simLineOffsets(board);
      const emulated: EmulatedBoard = new EmulatedBoard({
        board,
        chip: this.chip,
        powerOffset: offsets?.power,
        resetOffset: offsets?.reset,
        bootMs,
        software: (watchdog) => this.softwareFor(board, emulated, watchdog, hardware),
        onState: (b, s) => {
          this.boardStates.set(b, s);
          for (const listener of this.stateListeners) listener(b, s);
        },
      });
      this.boards.push(emulated);
      emulated.attach();
    }
  }

  /** What one boot of a board runs: the board's composition on its emulated hardware. */
  private softwareFor(
    board: number,
    emulated: EmulatedBoard,
    watchdog: EmulatedWatchdog,
    hardware: SimBoardHardware,
  ): BoardSoftware | EmulatedBoardSoftware {
    const slots = this.slots.get(board);
    if (!slots) return this.composeFor(board, emulated, watchdog, hardware);
    // With slots, U-Boot chooses first: what boots depends on the environment, and a trial may go wrong.
    let inner: { start(): Promise<void>; stop(): Promise<void>; stall?(): void } | undefined;
    let halted = false;
    return {
      start: async () => {
        const boot = await slots.boot();
        this.running.set(board, { version: boot.version, trial: boot.trial });
        const fault = boot.trial ? this.trialFaults.get(board) : undefined;
        if (fault) this.trialFaults.delete(board);
        if (halted) return;
        if (fault === 'no-boot') {
          // The new root does not come up (a kernel panic that reboots): U-Boot counts the try used.
          this.logger.warn(`board ${board}: slot ${boot.slot} does not boot`);
          this.rebootLater(board, emulated, 50);
          return;
        }
        if (fault === 'unhealthy') {
          // It boots, but its agent never comes up: only the trial's watch runs, and gives up at its limit.
          inner = this.trialWatchOnly(board, emulated, slots, boot);
        } else {
          // Unreachable: cut off from the manager for as long as this boot lasts.
          if (fault === 'unreachable') this.links.get(board)!.cutUntil = Infinity;
          inner = this.composeFor(board, emulated, watchdog, hardware, {
            slot: boot.slot,
            version: boot.version,
          });
        }
        await inner.start();
      },
      stop: async () => {
        halted = true;
        const link = this.links.get(board)!;
        if (link.cutUntil === Infinity) link.cutUntil = 0;
        await inner?.stop();
      },
      stall: () => inner?.stall?.(),
    };
  }

  /** A trial boot whose agent never starts: the watch alone, never acknowledged, reboots the board to fall back. */
  private trialWatchOnly(
    board: number,
    emulated: EmulatedBoard,
    slots: EmulatedSlots,
    boot: { slot: 'A' | 'B'; version: string },
  ) {
    const updater = new SlotUpdater({
      ...this.slotOptions(board, slots, boot),
      fetch: () => Promise.reject(new Error('no agent')),
      reboot: () => this.rebootLater(board, emulated, 20),
      log: (line) => this.logger.info(`board ${board}: update: ${line}`),
    });
    return { start: () => updater.start(), stop: async () => updater.stop() };
  }

  private slotOptions(board: number, slots: EmulatedSlots, boot: { slot: 'A' | 'B'; version: string }) {
    const u = this.options.update!;
    return {
      env: slots.env,
      slots: slots.devices(boot.slot),
      version: boot.version,
      policy: { keys: u.keys, profile: u.profile, runningVersion: boot.version },
      recordFile: slots.recordFile,
      now: () => Date.now(),
      watch: {
        limitMs: u.trialLimitMs ?? 30_000,
        pollMs: 100,
        sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
        // The manager's board also waits for the manager's software running now (a restart makes a new one).
        ...(board === 1 ? { manager: () => this.manager.proof() } : {}),
      },
    };
  }

  /** A reboot a moment from now; the manager's board takes the manager's software down with it. */
  private rebootLater(board: number, emulated: EmulatedBoard, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      emulated.crash();
      if (board === 1 && this.options.update && !this.stopped)
        void this.restartSupervisor(this.options.bootMs);
    }, ms);
    this.timers.add(timer);
  }

  private composeFor(
    board: number,
    emulated: EmulatedBoard,
    watchdog: EmulatedWatchdog,
    hardware: SimBoardHardware,
    boot?: { slot: 'A' | 'B'; version: string },
  ): BoardSoftware {
    const { config } = this.options;
    const u = this.options.update;
    // With updates, the visor's binaries live on the board's data partition, beside its slots.
    const disk = this.visorDisks.get(board) ?? {
      config: null,
      ...(u ? { dir: join(u.dir, `board-${board}`, 'skywire') } : {}),
      ...(this.skywire?.visorOf(board).emulated
        ? { imageVersion: this.skywire.visorOf(board).emulated!.version }
        : {}),
    };
    this.visorDisks.set(board, disk);
    const visorHost = new SimVisorHost({
      board,
      disk,
      ...(this.skywire?.visorOf(board) ?? {}),
      installedDiesAfterMs: () => this.visorFaults.get(board),
    });
    this.visorHosts.set(board, visorHost);
    const slots = this.slots.get(board);
    // The manager derives its own key; a worker has the one it joined with, or none yet (a fresh card).
    const key =
      board === 1 || this.options.enrolment !== 'join'
        ? deriveBoardKey(this.boxSecret, board)
        : this.keptKeys.get(board);
    const software = composeBoard({
      config,
      board,
      ...(key
        ? { key }
        : {
            join: {
              keep: ({ key: joined }) => {
                this.keptKeys.set(board, joined);
                return Promise.resolve();
              },
              retryMs: Math.max(100, this.options.bootMs),
            },
          }),
      // Routine notes (which disk holds the cache) stay quiet; warnings and alerts reach the simulator's log.
      logger: { info: () => {}, warn: (m) => this.logger.warn(m), error: (m) => this.logger.error(m) },
      hardware: {
        root: hardware.kernel(board).root,
        run: hardware.runner(board),
        statfs: hardware.statfs(board),
        ensureDir: (path) => hardware.ensureDir(board, path),
        inventory: hardware.inventory(board),
        watchdog,
        network: {
          // Every agent talks to whichever supervisor runs now, as a real board talks to the manager's address.
          manager: { host: '127.0.0.1', port: this.supervisor.port },
          datagrams: async () =>
            faultyLink(
              await bindUdp(0, '127.0.0.1', (m) => this.logger.warn(`board ${board}: ${m}`)),
              this.links.get(board)!,
            ),
        },
        visor: this.options.visors?.(board) ?? {
          host: visorHost,
          // The visor's RPC is asked more often than on a box, so a killed or hung visor shows within seconds.
          probeEveryMs: 2000,
          ...(u && disk.dir
            ? {
                update: {
                  dir: disk.dir,
                  keys: () => Promise.resolve(u.keys),
                  arch: u.visorArchOf?.(board) ?? u.visorArch ?? 'arm64',
                  swap: u.visorSwap ?? { limitMs: 8000, steadyMs: 1500 },
                  probeEveryMs: 200,
                },
              }
            : {}),
        },
        // A real reboot takes a moment after the command is acknowledged; the acknowledgement leaves first.
        reboot: () => this.rebootLater(board, emulated, 20),
        ...(slots && boot ? { slots: this.slotOptions(board, slots, boot) } : {}),
      },
    });
    this.agents.set(board, software.agent);
    return software;
  }

  /** Board `board`'s card is flashed afresh from a generic image: it has no key until it joins again. */
  reflash(board: number): void {
    this.keptKeys.delete(board);
  }

  /** Calls `listener` whenever an emulated board changes state (off, booting, running). */
  onBoardState(listener: (board: number, state: EmulatedBoardState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * The whole box loses power for `forMs`: every board and the manager stop; the power lines fall. When power
   * returns the manager boots, a fresh supervisor reads its saved state and the lines, and switches the
   * boards on one by one.
   */
  async powerLoss(forMs: number): Promise<void> {
    await this.manager.halt();
    this.managerWatchdog.powerLost();
    for (let board = 2; board <= this.options.config.box.boards; board++)
      this.chip.drive(simLineOffsets(board).power, 0);
    for (const b of this.boards) b.setMains(false);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      for (const b of this.boards) b.setMains(true);
      void this.restartSupervisor(this.options.bootMs);
    }, forMs);
    this.timers.add(timer);
  }

  /** Starts the manager's software again after `afterMs` (the manager's boot), as after a reset of the manager. */
  private async restartSupervisor(afterMs: number): Promise<void> {
    await this.manager.halt();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      const next = this.makeManager(this.supervisor.port);
      this.manager = next;
      next.start().catch((err: unknown) => this.logger.error(`manager restart: ${String(err)}`));
    }, afterMs);
    this.timers.add(timer);
  }

  /** Records an event in the supervisor's stream (the scenario runner's fault marks). */
  record(event: SupervisorEvent): void {
    this.options.events?.(event);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.manager.stop();
    await this.skywire?.stop();
    this.managerWatchdog.powerLost();
    await Promise.all(this.boards.map((b) => b.detach()));
    await this.bus.close();
    await this.hardware?.dispose();
  }

  /** What each emulated board is really doing, beside what the supervisor believes. */
  emulatedState(board: number): EmulatedBoardState {
    return this.boardStates.get(board) ?? 'off';
  }
}

/** A TCP port free on loopback now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function defaultDisks(boards: number): { board: number; disk: string; report: string }[] {
  return Array.from({ length: Math.min(SATA_BOARDS, boards) }, (_, i) => ({
    board: i + 1,
    disk: 'sda',
    report: HEALTHY_DISK_REPORT,
  }));
}

/** There is no board host to ssh to in the simulator, so `attach <n>` opens a local shell, and says so. */
function simulatedAttach(board: number): AttachCommand {
  return {
    argv: [process.env.SHELL || '/bin/sh'],
    env: { SKYMINER_BOARD: String(board) },
    note: `simulator: board ${board} has no host of its own, so this is a local shell standing in for ssh`,
  };
}
