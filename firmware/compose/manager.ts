import type { I2cBus } from '../../drivers/i2c/bus.js';
import type { Logger } from '../../drivers/logger.js';
import { Ssd1306 } from '../../drivers/ssd1306/driver.js';
import type { Watchdog } from '../../drivers/watchdog/watchdog.js';
import type { Config } from '../config/schema.js';
import { firmwareSources } from '../control/firmware-sources.js';
import { ControlServer } from '../control/server.js';
import type { AttachCommand } from '../control/sources.js';
import { panelInput, rewardFigures } from '../panel/figures.js';
import { Panel, panelSettings } from '../panel/panel.js';
import type { Datagrams, Peer } from '../protocol/datagrams.js';
import { rewardsServiceFromConfig } from '../rewards/from-config.js';
import type { HypervisorPasswordControl } from '../skywire/hypervisor-account.js';
import { splitCredentials } from '../skywire/source-error.js';
import type { RewardsService, RewardsServiceOptions } from '../rewards/service.js';
import type { EventSink } from '../supervisor/event-log.js';
import { supervisorSettings } from '../supervisor/settings.js';
import { Supervisor, type BoardLines } from '../supervisor/supervisor.js';
import type { Uplink } from '../supervisor/network-silence.js';
import { RolloutLoop } from '../supervisor/rollout-loop.js';
import type { BundlePolicy } from '../update/bundle.js';
import type { VisorArch } from '../update/visor-bundle.js';
import { rolloutLines, rolloutPanelAlert, type RolloutLimits } from '../update/rollout.js';
import type { ManagerProof } from '../update/trial-health.js';

/** A lost grant is sent again on a repeated claim this long; a refused join shows on the panel this long. */
const JOIN_REGRANT_MS = 60_000;
const JOIN_ALERT_MS = 600_000;

/**
 * The hardware the manager's software runs on. `skyminer supervisor` passes the real parts
 * (firmware/cli/commands/supervisor.ts), the simulator emulated ones (firmware/sim/simulator.ts); nothing else
 * differs between the two. A new device on the manager goes here as one more part.
 */
export interface ManagerHardware {
  /** Every worker board's power and reset lines; board 1 (the manager) has none. */
  lines: Map<number, BoardLines>;
  /** The manager's own watchdog, armed and petted by the supervisor: a stalled supervisor resets the manager. */
  watchdog?: Watchdog;
  /** The panel's I2C bus; a bus that cannot be opened leaves the manager running without its panel. */
  openPanelBus?: () => Promise<I2cBus>;
  /**
   * The manager's uplink as last judged (telemetry/uplink.ts on a box, reading the kernel's tables): the panel
   * shows it and the supervisor weighs it when many boards fall silent together. None: taken as up.
   */
  uplink?: () => Uplink;
  /** The box's network: where heartbeats arrive, and where a board not heard from yet is probed. */
  network: {
    listen: { host: string; port: number };
    datagrams?: () => Promise<Datagrams>;
    boardAddress?: (board: number) => Peer | undefined;
  };
  /** The Skywire hypervisor and the Skycoin node the rewards are read from; none: no rewards. */
  skywire?: Pick<RewardsServiceOptions, 'hypervisor' | 'skycoin'> &
    Partial<Pick<RewardsServiceOptions, 'now' | 'summaryPollMs' | 'balancePollMs'>> & {
      /** The ledger file; null keeps the history in memory. Default: from the config. */
      ledger?: string | null;
      /** The hypervisor UI's password, where the manager keeps it; none: `skywire password` is not available. */
      password?: HypervisorPasswordControl;
    };
  /** How `attach <n>` opens a shell on board n. */
  attach: (board: number) => AttachCommand;
  /**
   * Box-wide updates: the manager's view of a bundle (its trusted keys, profile and version), where the rollout and
   * its bundle are kept (on the data partition), where the bundle is served to the boards. None: no `update`.
   */
  update?: {
    policy: () => Promise<BundlePolicy>;
    /** The box's visor architecture: visor bundles are checked against it. None: visor bundles are refused. */
    visorArch?: VisorArch;
    dir: string;
    serve: { host: string; port: number };
    limits?: RolloutLimits;
    tickMs?: number;
  };
}

export interface ManagerSoftwareOptions {
  config: Config;
  /** Every board's key (firmware/auth/keys.ts BoxKeys). */
  keyFor: (board: number) => Buffer | undefined;
  hardware: ManagerHardware;
  logger: Logger;
  events?: EventSink;
  /** Where the supervisor keeps its state; none keeps nothing across restarts. */
  stateFile?: string;
  /** The zero of the events' `t` (ms), kept across a manager restart in the simulator. */
  epochMs?: number;
  /** The control socket the console and the CLI use; none: no socket. */
  control?: { path: string; group?: string | null };
  /**
   * Zero-touch enrolment (supervisor/join-window.md): how long a join window stays open after the manager switches
   * a board on (held to half the boot timeout, so a joined board still beats it), and the attach key line the
   * grant carries. None or 0 ms: boards enrol only from a box secret on their card.
   */
  join?: { windowMs: number; attachLine?: string };
  /**
   * Records what a trial boot of the manager's slot waits for (update/trial-health.ts): called once the software is
   * up, and again once the panel has drawn. A device writes it for its watch (update/boot-proof.ts); a failure to
   * record is logged and costs only the commit.
   */
  recordProof?: (proof: ManagerProof) => Promise<void>;
}

/** The manager's software, started and stopped as one: a manager reset restarts all of it. */
export interface ManagerSoftware {
  readonly supervisor: Supervisor;
  /** None when the panel is disabled or its bus could not be opened (known once started). */
  readonly panel: Panel | undefined;
  readonly rewards: RewardsService | undefined;
  readonly control: ControlServer | undefined;
  /** Box-wide updates; none without `hardware.update`. */
  readonly rollout: RolloutLoop | undefined;
  start(): Promise<void>;
  /** A clean stop: state saved, the watchdog disarmed. */
  stop(): Promise<void>;
  /** Everything stops at once, as when the manager loses power or resets: nothing is disarmed. */
  halt(): Promise<void>;
  /** What a trial boot of the manager's slot waits for: up (started, not stopped), and the panel drawn. */
  proof(): ManagerProof;
}

/**
 * The manager's software: the supervisor (board states, restarts, the manager's watchdog), the rewards service,
 * the front panel and the control socket, from the config and the manager's hardware. A missing panel, Skywire
 * source or control socket costs only that part: supervision always runs.
 */
export function composeManager(options: ManagerSoftwareOptions): ManagerSoftware {
  const { config, hardware: hw, logger } = options;
  const settings = supervisorSettings(config);
  const join = options.join && options.join.windowMs > 0 ? options.join : undefined;
  const supervisor: Supervisor = new Supervisor({
    ...settings,
    // A visor the hypervisor cannot reach gets the reward address on the board itself (its agent writes it).
    rewardAddressFor: (board): string | null => rewards?.onBoardAddressFor(board) ?? null,
    ...(join
      ? {
          join: {
            policy: {
              windowMs: Math.min(join.windowMs, settings.policy.bootTimeoutMs / 2),
              regrantMs: JOIN_REGRANT_MS,
              alertMs: JOIN_ALERT_MS,
            },
            ...(join.attachLine ? { attachLine: join.attachLine } : {}),
          },
        }
      : {}),
    lines: hw.lines,
    listen: hw.network.listen,
    keyFor: options.keyFor,
    ...(hw.network.boardAddress ? { boardAddress: hw.network.boardAddress } : {}),
    ...(hw.network.datagrams ? { datagrams: hw.network.datagrams } : {}),
    ...(hw.uplink ? { uplink: hw.uplink } : {}),
    ...(hw.watchdog
      ? { watchdog: { device: hw.watchdog, timeoutS: config.supervisor.watchdog_timeout_s } }
      : {}),
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.epochMs !== undefined ? { epochMs: options.epochMs } : {}),
    logger,
    ...(options.events ? { events: options.events } : {}),
  });
  // Rewards figures from the hypervisor and a Skycoin node; either being away only marks the figures stale.
  const rewards: RewardsService | undefined =
    config.rewards.enabled && hw.skywire
      ? rewardsServiceFromConfig(config, {
          ...hw.skywire,
          logger,
          onBoardAddress: (board): string | null =>
            supervisor.telemetryOf(board)?.visor?.reward_address ?? null,
        })
      : undefined;
  const rollout = hw.update
    ? new RolloutLoop({
        supervisor,
        dir: hw.update.dir,
        policy: hw.update.policy,
        ...(hw.update.visorArch ? { visorArch: hw.update.visorArch } : {}),
        serve: hw.update.serve,
        logger,
        ...(hw.update.limits ? { limits: hw.update.limits } : {}),
        ...(hw.update.tickMs ? { tickMs: hw.update.tickMs } : {}),
      })
    : undefined;
  let panel: Panel | undefined;
  let control: ControlServer | undefined;
  let up = false;
  let drawn = false;

  const proof = (): ManagerProof => ({
    supervisor: up,
    panel: !panel ? 'none' : drawn ? 'drawn' : 'waiting',
  });
  // One record at a time, each of the state when it runs: the last one written is the latest.
  let recording = Promise.resolve();
  const record = (): void => {
    const write = options.recordProof;
    if (!up || !write) return;
    recording = recording
      .then(() => write(proof()))
      .catch((err: unknown) =>
        logger.warn(`update: the manager's state for a trial boot not recorded: ${String(err)}`),
      );
  };

  const openPanel = async (): Promise<Panel | undefined> => {
    if (!config.panel.enabled || !hw.openPanelBus) return undefined;
    let bus: I2cBus;
    try {
      bus = await hw.openPanelBus();
    } catch (err) {
      logger.warn(
        `panel: /dev/i2c-${config.panel.i2c_bus} unavailable (${(err as Error).message}); running without it`,
      );
      return undefined;
    }
    const settings = panelSettings(config.panel);
    const threshold = config.rewards.uptime_threshold_pct;
    return new Panel(
      new Ssd1306(bus, { ...settings.driver, logger }),
      () => {
        const view = rewards?.view();
        const update = rollout?.status();
        return panelInput(
          supervisor.view(),
          view && rewardFigures(view, threshold),
          hw.uplink?.().state ?? 'up',
          update && rolloutPanelAlert(update),
        );
      },
      settings.panel,
    );
  };

  const openControl = async (): Promise<ControlServer | undefined> => {
    if (!options.control) return undefined;
    const { path, group } = options.control;
    const server = new ControlServer(
      supervisor,
      {
        ...firmwareSources({
          view: () => supervisor.view(),
          panel,
          rewards: () => rewards,
          hypervisorUi: splitCredentials(config.skywire.hypervisor_url).base,
          ...(hw.skywire?.password ? { hypervisorPassword: hw.skywire.password } : {}),
        }),
        config: { show: () => config },
        attach: hw.attach,
        ...(rollout
          ? {
              update: {
                start: (source: string, by: string) => rollout.begin(source, by),
                stop: (by: string) => rollout.cancel(by),
                status: () => {
                  const r = rollout.status();
                  return r ? { lines: rolloutLines(r, Date.now()), rollout: r } : null;
                },
              },
            }
          : {}),
      },
      { path, logger, ...(group !== undefined ? { group } : {}) },
    );
    try {
      await server.listen();
      return server;
    } catch (err) {
      logger.error(
        `control socket ${path}: ${(err as Error).message}; the console cannot reach this supervisor`,
      );
      return undefined;
    }
  };

  // The panel first: what it shows last is what the box was when it stopped, not a figure from the way down.
  const quiet = async (): Promise<void> => {
    await rollout?.stop();
    await panel?.stop();
    await control?.close();
    await rewards?.stop();
  };

  return {
    supervisor,
    get panel() {
      return panel;
    },
    rewards,
    rollout,
    get control() {
      return control;
    },
    start: async () => {
      await supervisor.start();
      // A rollout the manager was running before it restarted (its own update reboots it) carries on.
      await rollout?.start().catch((err: unknown) => logger.error(`rollout: ${String(err)}`));
      await rewards?.start();
      panel = await openPanel();
      const shown = panel;
      // A frame handed over at one refresh has reached the panel (or not) by the next one.
      const unlisten = shown?.onFrame(() => {
        if (drawn || !shown.drawn) return;
        drawn = true;
        unlisten?.();
        record();
      });
      panel?.start();
      control = await openControl();
      up = true;
      record();
    },
    stop: async () => {
      up = false;
      await quiet();
      await supervisor.stop();
    },
    halt: async () => {
      up = false;
      await supervisor.halt();
      await quiet();
    },
    proof,
  };
}
