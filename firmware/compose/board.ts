import type { KeyObject } from 'node:crypto';
import type { CommandRunner } from '../../drivers/disks/command-runner.js';
import type { StatFs } from '../../drivers/disks/usage.js';
import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import type { Logger } from '../../drivers/logger.js';
import type { Watchdog } from '../../drivers/watchdog/watchdog.js';
import { Agent, type AgentOptions } from '../agent/agent.js';
import { defaultChecks, healthLimits } from '../agent/health.js';
import type { Config } from '../config/schema.js';
import { DiskService } from '../disks/disk-service.js';
import { DEFAULT_CACHE_CONFIG } from '../disks/cache-disk.js';
import { compareVersions } from '../lib/skywire-version.js';
import type { Datagrams } from '../protocol/datagrams.js';
import type { InventoryFigures } from '../protocol/figures.js';
import { BoardVisor } from '../skywire/board-visor.js';
import { ensureHypervisorAccount } from '../skywire/hypervisor-account.js';
import type { VisorHost } from '../skywire/visor-host.js';
import type { VisorPolicy } from '../skywire/visor-policy.js';
import { heartbeatFigures } from '../telemetry/heartbeat-figures.js';
import { inventory, type BoardInventory, type InventorySource } from '../telemetry/inventory.js';
import { TelemetrySampler } from '../telemetry/sampler.js';
import { fetchFromManager, SlotUpdater, type SlotUpdaterOptions } from '../update/board-updater.js';
import type { VisorArch } from '../update/visor-bundle.js';
import type { SwapPolicy } from '../update/visor-swap.js';
import { VisorUpdater } from '../update/visor-updater.js';

/**
 * The hardware one board's software runs on. `skyminer agent` passes the real parts (firmware/cli/commands/agent.ts),
 * the simulator emulated ones (firmware/sim/simulator.ts); nothing else differs between the two. A new device on
 * the board goes here as one more part, with its driver and emulator in `drivers/<device>/`.
 */
export interface BoardHardware {
  /** The board's `/` as its kernel shows it: /proc and /sys (and /etc for the inventory). */
  root: FileRoot;
  /** Runs smartctl, fsck, mount and umount. */
  run: CommandRunner;
  /** Free space of a mounted filesystem: the root's for the health check, the cache disk's for its report. */
  statfs: StatFs;
  /** Creates a mount point. */
  ensureDir: (path: string) => Promise<void>;
  /** What the inventory asks (systeminformation on a device). */
  inventory: InventorySource;
  /** The board's hardware watchdog; none where the board has none. */
  watchdog?: Watchdog;
  /** The box's network as the board sees it: where the manager listens, and the board's own socket. */
  network: { manager: { host: string; port: number }; datagrams: () => Promise<Datagrams> };
  /** Reboots the board. */
  reboot: () => void;
  /** 32-bit boards: per-driver network counters may wrap at 4 GiB. */
  counters32?: boolean;
  /** The board's Skywire visor; none on a board without Skywire. */
  visor?: BoardVisorHardware;
  /**
   * The board's root slots and boot environment, for box-wide updates (real ones on a device, files standing in
   * for them in the simulator); none: the board reports no firmware and takes no update order.
   */
  slots?: Omit<SlotUpdaterOptions, 'fetch' | 'reboot' | 'log'>;
}

/** Where the board's visor runs, and (on the manager) where its hypervisor answers and its password is kept. */
export interface BoardVisorHardware {
  host: VisorHost;
  hypervisor?: { url: string; passwordFile: string };
  /** The service's timings (tests and the simulator shorten them). */
  policy?: VisorPolicy;
  probeEveryMs?: number;
  /**
   * Box-wide visor updates: the folder holding the visor's binaries (update/visor-slots.ts, the one the host runs
   * `current` from), the keys a bundle must be signed with and this board's architecture. None: no visor order.
   */
  update?: {
    dir: string;
    keys: () => Promise<ReadonlyMap<string, KeyObject>>;
    arch: VisorArch;
    swap?: SwapPolicy;
    probeEveryMs?: number;
  };
}

export interface BoardSoftwareOptions {
  config: Config;
  board: number;
  /** This board's key (firmware/auth/enrol.ts: kept on its data partition, or derived from the box secret). */
  key?: Buffer;
  /** No key yet: the agent joins the box first and keeps what it got (zero-touch enrolment, agent/join.ts). */
  join?: AgentOptions['join'];
  hardware: BoardHardware;
  logger: Logger;
}

/** What runs on a board once it has booted: started and stopped with the board, a fresh one each boot. */
export interface BoardSoftware {
  readonly agent: Agent;
  /** The board's visor service; none without Skywire. */
  readonly visor: BoardVisor | undefined;
  /** What the board is, once read (it is read once, in the background, at start). */
  inventory(): BoardInventory | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Freezes the agent as a wedged loop would (the simulator's faults). */
  stall(): void;
}

/**
 * One board's software: the agent with its health checks and watchdog, the telemetry sampler, the disk service
 * (discovery, SMART, cache-disk care) and the inventory, all reading the board's own hardware. A figure added to
 * the heartbeat is filled in `telemetry/heartbeat-figures.ts` from what is built here.
 */
export function composeBoard(options: BoardSoftwareOptions): BoardSoftware {
  const { config, board, hardware: hw, logger } = options;
  const sampler = new TelemetrySampler(hw.root, { periodMs: 1000, wrap32: hw.counters32 ?? false });
  const disks = new DiskService({
    board,
    root: hw.root,
    run: hw.run,
    statfs: hw.statfs,
    ensureDir: hw.ensureDir,
    smartPeriodMs: config.agent.smart_period_s * 1000,
    cache: { ...DEFAULT_CACHE_CONFIG, enabled: config.agent.cache_disk },
    logger,
    onAlert: (level, message) => logger[level === 'info' ? 'info' : 'warn'](`board ${board}: ${message}`),
  });
  let found: BoardInventory | null = null;
  let figures: InventoryFigures | null = null;
  let stopped = false;
  // The visor is a service the agent runs and watches, never a health check: a visor that fails is restarted and
  // reported, and the watchdog keeps being petted (see agent/health.ts).
  const visor = hw.visor && boardVisor(board, hw.visor, logger, config.skywire.request_timeout_ms);
  const updater = hw.slots
    ? new SlotUpdater({
        ...hw.slots,
        fetch: fetchFromManager(hw.network.manager.host),
        reboot: hw.reboot,
        log: (line) => logger.info(`board ${board}: update: ${line}`),
      })
    : undefined;
  const visorUpdate = visor && hw.visor?.update;
  const visorUpdater = visorUpdate
    ? new VisorUpdater({
        dir: visorUpdate.dir,
        policy: async () => ({
          keys: await visorUpdate.keys(),
          arch: visorUpdate.arch,
          runningVersion: visor.figures().version,
          compare: compareVersions,
        }),
        fetch: fetchFromManager(hw.network.manager.host),
        restart: () => visor.restart(),
        probe: () => visor.answers(),
        ...(visorUpdate.swap ? { swap: visorUpdate.swap } : {}),
        ...(visorUpdate.probeEveryMs !== undefined ? { probeEveryMs: visorUpdate.probeEveryMs } : {}),
        log: (line) => logger.info(`board ${board}: visor update: ${line}`),
      })
    : undefined;
  const agent = new Agent({
    board,
    manager: hw.network.manager,
    intervalMs: config.supervisor.heartbeat_interval_ms,
    ...(config.agent.check_timeout_ms !== undefined ? { checkTimeoutMs: config.agent.check_timeout_ms } : {}),
    ...(options.key ? { key: options.key } : {}),
    ...(options.join ? { join: options.join } : {}),
    checks: defaultChecks(hw.root, healthLimits(config.agent), hw.statfs),
    telemetry: () => heartbeatFigures(sampler.latest(), disks.reports(), figures, visor?.figures() ?? null),
    ...(visor
      ? {
          onHypervisorKey: (pk: string) => void visor.setHypervisorKey(pk),
          onRewardAddress: (address: string) => void visor.setRewardAddress(address),
        }
      : {}),
    logger,
    datagrams: hw.network.datagrams,
    // On the manager the supervisor owns the watchdog: a device opens only once, and a hung supervisor must reset it.
    watchdog:
      board === 1 || !hw.watchdog
        ? undefined
        : { device: hw.watchdog, timeoutS: config.agent.watchdog_timeout_s, disarmOnStop: true },
    reboot: hw.reboot,
    ...(updater ? { updater } : {}),
    ...(visorUpdater ? { visorUpdater } : {}),
  });
  return {
    agent,
    visor,
    inventory: () => found,
    start: async () => {
      // What the board runs is read before its first heartbeat, which carries it; a failure costs only the updates.
      await updater?.start().catch((err: unknown) => logger.warn(`board ${board}: update: ${String(err)}`));
      // A visor binary left on trial by a restart is given up before the visor starts on it.
      await visorUpdater
        ?.start()
        .catch((err: unknown) => logger.warn(`board ${board}: visor update: ${String(err)}`));
      // The agent first: a board announces itself even while its disks and inventory are still being looked at.
      await agent.start();
      void sampler.start();
      void disks.start();
      void visor?.start();
      void inventory(hw.root, hw.inventory).then((inv) => {
        if (stopped) return;
        found = inv;
        const { fallbacks: _fallbacks, ...rest } = inv;
        figures = rest;
      });
    },
    stop: async () => {
      stopped = true;
      updater?.stop();
      visorUpdater?.stop();
      sampler.stop();
      disks.stop();
      await visor?.stop();
      await agent.stop();
    },
    stall: () => agent.stall(),
  };
}

/** Board 1's visor hosts the hypervisor and makes its account; every other board's trusts the manager's key. */
function boardVisor(board: number, hw: BoardVisorHardware, logger: Logger, timeoutMs: number): BoardVisor {
  const hv = board === 1 ? hw.hypervisor : undefined;
  return new BoardVisor({
    host: hw.host,
    role: board === 1 ? 'hypervisor' : 'visor',
    ...(hv
      ? {
          account: async () => {
            const outcome = await ensureHypervisorAccount(hv.url, hv.passwordFile, timeoutMs);
            if (outcome === 'created')
              logger.info(`hypervisor: account made; its password is in ${hv.passwordFile}`);
          },
        }
      : {}),
    ...(hw.policy ? { policy: hw.policy } : {}),
    ...(hw.probeEveryMs !== undefined ? { probeEveryMs: hw.probeEveryMs } : {}),
    logger,
  });
}
