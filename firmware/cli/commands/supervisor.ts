import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { openOutputLine } from '../../../drivers/gpio/open.js';
import type { LineSpec, OutputLine } from '../../../drivers/gpio/line.js';
import { openI2cBus } from '../../../drivers/i2c/bus.js';
import type { Logger } from '../../../drivers/logger.js';
import { loadNativeIoctl } from '../../../drivers/native/addon.js';
import { DevWatchdog } from '../../../drivers/watchdog/dev-watchdog.js';
import { deriveAttachKey } from '../../auth/attach-key.js';
import { loadBoxSecret } from '../../auth/enrol.js';
import { BoxKeys } from '../../auth/keys.js';
import { writeFileAtomic } from '../../lib/files.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import type { BoardLines } from '../../supervisor/supervisor.js';
import { MANAGER_PROOF, recordProof } from '../../update/boot-proof.js';
import { composeManager } from '../../compose/manager.js';
import { UplinkMonitor } from '../../telemetry/uplink.js';
import type { Config } from '../../config/schema.js';
import { DEFAULT_CONTROL_PATH } from '../../control/client.js';
import { sshAttach } from '../../control/sources.js';
import { splitCredentials } from '../../skywire/source-error.js';
import {
  hypervisorPasswordControl,
  PASSWORD_FILE,
  readHypervisorPassword,
} from '../../skywire/hypervisor-account.js';
import { HypervisorClient } from '../../skywire/hypervisor-client.js';
import { skywireDataDir } from '../../skywire/visor-host.js';
import { SkycoinClient } from '../../skywire/skycoin-client.js';
import { release } from '../../update/device.js';
import { loadTrustedKeys, UPDATE_KEYS_DIR } from '../../update/keys.js';
import { hostVisorArch } from '../../update/visor-bundle.js';
import { boardAddress, readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

type LineConfig = Config['gpio']['boards'][number]['power'];

const toSpec = (c: LineConfig): LineSpec => ({
  chip: c.chip,
  offset: c.offset,
  name: c.name,
  activeLow: c.active_low,
});

/**
 * Opens every configured power and reset line. A line already driven keeps its level (the boards that run
 * stay running across a supervisor restart); a reset line nobody drives starts released. A line that cannot
 * be opened is logged and left out: its board loses only the supervisor's hand on it.
 */
export async function openBoardLines(config: Config, logger: Logger): Promise<Map<number, BoardLines>> {
  const lines = new Map<number, BoardLines>();
  const open = async (c: LineConfig, initial?: 0 | 1): Promise<OutputLine | undefined> => {
    try {
      return await openOutputLine(toSpec(c), config.gpio.backend, initial);
    } catch (err) {
      logger.error(`gpio: ${(err as Error).message}`);
      return undefined;
    }
  };
  for (const [i, board] of config.gpio.boards.entries()) {
    lines.set(i + 2, { power: await open(board.power), reset: await open(board.reset, 0) });
  }
  return lines;
}

/** The ssh key `attach` logs in to the boards with, from the box secret; a failure only costs `attach`. */
async function writeAttachKey(
  config: Config,
  boxSecret: Buffer,
  logger: Logger,
): Promise<string | undefined> {
  const path = config.auth.attach_key;
  if (!path) return undefined;
  try {
    const { privateText } = deriveAttachKey(boxSecret);
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current !== privateText) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, privateText, 0o600);
    }
    return path;
  } catch (err) {
    logger.error(`attach: cannot write ${path} (${(err as Error).message}); attach will ask for a password`);
    return undefined;
  }
}

/**
 * The manager's own watchdog: nothing else can reset the manager, so a stalled loop must. Only made here; the
 * Supervisor opens (arms) it in start() and pets it from its tick. Opening it here as well would arm it on a
 * descriptor nobody pets, and the second open would fail, leaving the manager to be reset while healthy.
 */
function ownWatchdog(config: Config, logger: Logger): DevWatchdog | undefined {
  try {
    return new DevWatchdog(config.supervisor.watchdog, { ioctl: loadNativeIoctl() });
  } catch (err) {
    logger.error(`watchdog: ${(err as Error).message}`);
    return undefined;
  }
}

/** `skyminer supervisor`: the manager's role on a real box. */
export async function supervisorCommand(argv: string[]): Promise<number> {
  const config = await readRoleConfig(argv);
  const logger = stderrLogger;
  await mkdir(config.supervisor.state_dir, { recursive: true });
  const boxSecret = await loadBoxSecret(config.auth.box_secret);
  const keys = new BoxKeys(boxSecret, config.box.boards);
  const attachKey = await writeAttachKey(config, boxSecret, logger);
  const events = new JsonLinesEventLog(
    join(config.supervisor.state_dir, 'events.jsonl'),
    (m) => logger.warn(m),
    { maxBytes: config.supervisor.event_log_max_bytes, keep: config.supervisor.event_log_keep },
  );
  const lines = await openBoardLines(config, logger);
  // Armed by start(); the supervisor pets it from its own tick, so a stalled loop resets the manager.
  const watchdog = ownWatchdog(config, logger);
  // The uplink as the kernel's tables show it: read on its own timer, whatever else runs.
  const uplink = new UplinkMonitor(new DirectoryRoot('/'), { logger });
  uplink.start();
  const timeoutMs = config.skywire.request_timeout_ms;
  const passwordFile = join(skywireDataDir(config.supervisor.state_dir), PASSWORD_FILE);
  const ownPassword =
    !config.skywire.password && splitCredentials(config.skywire.hypervisor_url).password === undefined;
  const visorArch = hostVisorArch();
  const manager = composeManager({
    config,
    keyFor: keys.keyFor,
    logger,
    events: events.sink,
    stateFile: join(config.supervisor.state_dir, 'state.json'),
    control: { path: DEFAULT_CONTROL_PATH },
    // Boards flashed without the box secret join in a window after the manager switches them on.
    join: { windowMs: config.auth.join_window_s * 1000, attachLine: deriveAttachKey(boxSecret).publicLine },
    // For a trial boot's watch (`skyminer update watch`): the manager's slot commits once this says it is up.
    recordProof: (proof) => recordProof(MANAGER_PROOF, { panel: proof.panel }),
    hardware: {
      lines,
      ...(watchdog ? { watchdog } : {}),
      openPanelBus: () => openI2cBus(config.panel.i2c_bus),
      uplink: () => uplink,
      network: {
        listen: { host: '0.0.0.0', port: config.network.heartbeat_port },
        boardAddress: (board) => ({ address: boardAddress(config, board), port: config.network.agent_port }),
      },
      skywire: {
        hypervisor: new HypervisorClient({
          url: config.skywire.hypervisor_url,
          username: config.skywire.username,
          // None configured: the password the manager's agent made with the hypervisor's account, read at each login.
          password:
            config.skywire.password || (() => readHypervisorPassword(passwordFile).then((p) => p ?? '')),
          timeoutMs,
        }),
        // The firmware-made password is the owner's to read and change; a configured one is changed in the config.
        ...(ownPassword
          ? { password: hypervisorPasswordControl(config.skywire.hypervisor_url, passwordFile, timeoutMs) }
          : {}),
        skycoin: new SkycoinClient({ url: config.skywire.skycoin_url, timeoutMs }),
      },
      attach: sshAttach((n) => boardAddress(config, n), {
        ...(attachKey ? { identity: attachKey } : {}),
        knownHosts: join(config.supervisor.state_dir, 'known_hosts'),
      }),
      // Box-wide updates: a bundle is checked against the manager's own keys, profile and version first.
      update: {
        policy: async () => {
          const r = await release();
          return {
            keys: await loadTrustedKeys(UPDATE_KEYS_DIR),
            ...(r.profile ? { profile: r.profile } : {}),
            ...(r.version ? { runningVersion: r.version } : {}),
          };
        },
        dir: config.supervisor.state_dir,
        serve: { host: '0.0.0.0', port: config.network.update_port },
        // A box's boards are one model: a visor bundle must be built for the manager's own architecture.
        ...(visorArch ? { visorArch } : {}),
      },
    },
  });
  await manager.start();
  if (watchdog?.refused) logger.warn(`watchdog: ${watchdog.path}: ${watchdog.refused}`);
  if (watchdog && watchdog.timeoutS > 0)
    logger.info(`watchdog: ${watchdog.path} armed, ${watchdog.timeoutS} s`);
  logger.info(
    `supervisor: watching ${config.box.boards} boards, heartbeats on udp/${config.network.heartbeat_port}`,
  );
  await untilStopped();
  // The supervisor's clean stop disarms the manager's watchdog (the magic close).
  await manager.stop();
  uplink.stop();
  await events.flush();
  // Released lines keep their levels in the controller (sysfs exports and PL061-class chips alike).
  for (const board of lines.values()) {
    await board.power?.close();
    await board.reset?.close();
  }
  return 0;
}
