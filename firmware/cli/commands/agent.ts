import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadNativeIoctl } from '../../../drivers/native/addon.js';
import { KernelRoot } from '../../../drivers/proc/kernel-root.js';
import { DevWatchdog } from '../../../drivers/watchdog/dev-watchdog.js';
import { mkdir } from 'node:fs/promises';
import { spawnRunner } from '../../../drivers/disks/command-runner.js';
import { realStatfs } from '../../../drivers/disks/usage.js';
import { composeBoard } from '../../compose/board.js';
import { bindUdp } from '../../protocol/datagrams.js';
import { systemInformation } from '../../telemetry/inventory.js';
import { enrolBoard, keepJoinedKey, needsJoin } from '../../auth/enrol.js';
import { ACK_PROOF, CHECKS_PROOF, recordProof } from '../../update/boot-proof.js';
import { deviceSlots, loadEnvStore, RECORD_FILE, release } from '../../update/device.js';
import { loadTrustedKeys, UPDATE_KEYS_DIR } from '../../update/keys.js';
import { hostVisorArch } from '../../update/visor-bundle.js';
import { UsageError } from '../usage-error.js';
import { PASSWORD_FILE } from '../../skywire/hypervisor-account.js';
import {
  SKYWIRE_BINARY,
  SKYWIRE_SERVICES_FILE,
  SkywireHost,
  skywireDataDir,
} from '../../skywire/visor-host.js';
import { join } from 'node:path';
import { readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

/**
 * The board's slots and U-Boot environment for box-wide updates; none (and one line) on an image started without
 * U-Boot or without two root slots: the board then runs, reports no firmware and takes no update order.
 */
async function deviceUpdateSlots(board: number) {
  try {
    const [env, slots, r] = await Promise.all([loadEnvStore(), deviceSlots(), release()]);
    const version = r.version ?? '0.0.0';
    return {
      env,
      slots,
      version,
      policy: {
        keys: await loadTrustedKeys(UPDATE_KEYS_DIR),
        ...(r.profile ? { profile: r.profile } : {}),
        runningVersion: version,
      },
      recordFile: RECORD_FILE,
      now: () => Date.now(),
      // For the trial boot's watch (`skyminer update watch`), which commits the slot on it.
      acknowledged: () => recordProof(ACK_PROOF),
      checksFailing: (failing: readonly string[]) => recordProof(CHECKS_PROOF, { failing }),
    };
  } catch (err) {
    stderrLogger.warn(`agent: board ${board} takes no box-wide update: ${(err as Error).message}`);
    return undefined;
  }
}

/** `skyminer agent`: every board's role on a real box. */
export async function agentCommand(argv: string[]): Promise<number> {
  const config = await readRoleConfig(argv);
  const board = config.box.slot;
  if (board === undefined)
    throw new UsageError("the agent needs box.slot in the config (this board's number, 1 = manager)");
  const paths = {
    boardKey: config.auth.board_key,
    boxSecret: config.auth.box_secret,
    ...(config.auth.authorized_keys ? { authorizedKeys: config.auth.authorized_keys } : {}),
  };
  // A freshly flashed worker with no box secret joins the box over the network (zero-touch enrolment): the agent
  // claims its key from the manager and keeps it on the data partition, where every later start finds it.
  const joining = board !== 1 && (await needsJoin(paths));
  const enrolment = joining ? undefined : await enrolBoard(board, paths);
  if (joining)
    stderrLogger.info(
      `agent: board ${board} has no key and no box secret; it joins the box when the manager switches it on`,
    );
  if (enrolment?.enrolled)
    stderrLogger.info(`agent: board ${board} enrolled; key in ${config.auth.board_key}`);
  if (enrolment?.attachKeyInstalled)
    stderrLogger.info(`agent: the manager's attach key added to ${config.auth.authorized_keys}`);
  if (enrolment?.attachKeyError)
    stderrLogger.warn(
      `agent: attach key not installed (${enrolment.attachKeyError}); will retry at next start`,
    );
  // A board without a watchdog device still reports; one with it must be armed before the first heartbeat.
  // On the manager the supervisor owns the watchdog: a device opens only once, and a hung supervisor must reset it.
  const path = config.agent.watchdog;
  const watchdog =
    board !== 1 && path && existsSync(path) ? new DevWatchdog(path, { ioctl: loadNativeIoctl() }) : undefined;
  if (!watchdog && board !== 1)
    stderrLogger.warn(
      `agent: ${path ? `no ${path}` : 'no watchdog configured'}; running without a hardware watchdog`,
    );
  // Skywire as the image ships it; its keys, config and the visor's files on the data partition.
  const skywireDir = skywireDataDir(config.supervisor.state_dir);
  const visorArch = hostVisorArch();
  const visor = existsSync(SKYWIRE_BINARY)
    ? {
        host: new SkywireHost({
          binary: SKYWIRE_BINARY,
          dir: skywireDir,
          servicesFile: SKYWIRE_SERVICES_FILE,
        }),
        hypervisor: { url: 'http://127.0.0.1:8000', passwordFile: join(skywireDir, PASSWORD_FILE) },
        // Visor bundles from the manager: installed beside the keys, where the host runs `current` from.
        ...(visorArch
          ? { update: { dir: skywireDir, keys: () => loadTrustedKeys(UPDATE_KEYS_DIR), arch: visorArch } }
          : {}),
      }
    : undefined;
  if (!visor) stderrLogger.warn(`agent: no ${SKYWIRE_BINARY}; running without a Skywire visor`);
  const slots = await deviceUpdateSlots(board);
  const software = composeBoard({
    config,
    board,
    ...(enrolment ? { key: enrolment.key } : {}),
    ...(joining
      ? {
          join: {
            keep: async ({ key, attachLine }) => {
              const kept = await keepJoinedKey(paths, key, attachLine);
              stderrLogger.info(`agent: board ${board} joined; key in ${paths.boardKey}`);
              if (kept.attachKeyError)
                stderrLogger.warn(`agent: attach key not installed (${kept.attachKeyError})`);
            },
          },
        }
      : {}),
    logger: stderrLogger,
    hardware: {
      // Read synchronously: through the thread pool, a loaded one-core board took seconds to read /proc/meminfo
      // and its memory check failed (and stopped the watchdog's petting) though memory was plentiful.
      root: new KernelRoot('/'),
      run: spawnRunner,
      statfs: realStatfs,
      ensureDir: (p) => mkdir(p, { recursive: true }).then(() => undefined),
      inventory: systemInformation,
      ...(watchdog ? { watchdog } : {}),
      network: {
        manager: { host: config.network.manager_address, port: config.network.heartbeat_port },
        datagrams: () =>
          bindUdp(config.network.agent_port, undefined, (m) => stderrLogger.warn(`board ${board}: ${m}`)),
      },
      reboot: () => spawn('reboot', { stdio: 'ignore', detached: true }).unref(),
      counters32: process.arch === 'arm',
      ...(visor ? { visor } : {}),
      ...(slots ? { slots } : {}),
    },
  });
  await software.start();
  if (watchdog?.refused) stderrLogger.warn(`agent: ${watchdog.path}: ${watchdog.refused}`);
  if (watchdog) stderrLogger.info(`agent: ${watchdog.path} armed, ${watchdog.timeoutS} s`);
  stderrLogger.info(
    `agent: board ${board} reporting to ${config.network.manager_address}:${config.network.heartbeat_port}`,
  );
  await untilStopped();
  await software.stop();
  return 0;
}
