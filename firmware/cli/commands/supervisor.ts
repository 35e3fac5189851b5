import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DirectoryRoot } from '../../../drivers/fileroot/file-root.js';
import { openOutputLine } from '../../../drivers/gpio/open.js';
import type { LineSpec, OutputLine } from '../../../drivers/gpio/line.js';
import { openI2cBus } from '../../../drivers/i2c/bus.js';
import type { Logger } from '../../../drivers/logger.js';
import { loadNativeIoctl } from '../../../drivers/native/addon.js';
import { DevWatchdog } from '../../../drivers/watchdog/dev-watchdog.js';
import { Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { Panel, panelSettings } from '../../panel/panel.js';
import { deriveAttachKey } from '../../auth/attach-key.js';
import { loadBoxSecret } from '../../auth/enrol.js';
import { BoxKeys } from '../../auth/keys.js';
import { writeFileAtomic } from '../../supervisor/atomic-file.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import { supervisorSettings } from '../../supervisor/settings.js';
import { Supervisor, type BoardLines } from '../../supervisor/supervisor.js';
import type { Config } from '../../config/schema.js';
import { DEFAULT_CONTROL_PATH } from '../../control/client.js';
import { firmwareSources } from '../../control/firmware-sources.js';
import { ControlServer } from '../../control/server.js';
import { sshAttach } from '../../control/sources.js';
import { panelInput, rewardFigures } from '../../panel/figures.js';
import { rewardsServiceFromConfig } from '../../rewards/from-config.js';
import type { RewardsService } from '../../rewards/service.js';
import { HypervisorClient } from '../../skywire/hypervisor-client.js';
import { SkycoinClient } from '../../skywire/skycoin-client.js';
import { UplinkMonitor } from '../../telemetry/uplink.js';
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
  // The panel shows the uplink; the supervisor weighs it when many boards fall silent together.
  const uplink = new UplinkMonitor(new DirectoryRoot('/'), { logger });
  uplink.start();
  const supervisor = new Supervisor({
    ...supervisorSettings(config),
    lines,
    listen: { host: '0.0.0.0', port: config.network.heartbeat_port },
    keyFor: keys.keyFor,
    boardAddress: (board) => ({ address: boardAddress(config, board), port: config.network.agent_port }),
    stateFile: join(config.supervisor.state_dir, 'state.json'),
    ...(watchdog ? { watchdog: { device: watchdog, timeoutS: config.supervisor.watchdog_timeout_s } } : {}),
    logger,
    events: events.sink,
    uplink: () => uplink,
  });
  await supervisor.start();
  if (watchdog?.refused) logger.warn(`watchdog: ${watchdog.path}: ${watchdog.refused}`);
  if (watchdog && watchdog.timeoutS > 0)
    logger.info(`watchdog: ${watchdog.path} armed, ${watchdog.timeoutS} s`);

  // Rewards figures from the hypervisor and a Skycoin node; either being away only marks the figures stale.
  let rewards: RewardsService | undefined;
  if (config.rewards.enabled) {
    const timeoutMs = config.skywire.request_timeout_ms;
    const hypervisor = new HypervisorClient({
      url: config.skywire.hypervisor_url,
      username: config.skywire.username,
      password: config.skywire.password,
      timeoutMs,
    });
    const skycoin = new SkycoinClient({ url: config.skywire.skycoin_url, timeoutMs });
    rewards = rewardsServiceFromConfig(config, { hypervisor, skycoin, logger });
    await rewards.load();
    await rewards.start();
  }

  // A missing or broken panel must not keep the supervisor from supervising.
  let panel: Panel | undefined;
  if (config.panel.enabled) {
    try {
      const bus = await openI2cBus(config.panel.i2c_bus);
      const settings = panelSettings(config.panel);
      const driver = new Ssd1306(bus, { ...settings.driver, logger });
      const threshold = config.rewards.uptime_threshold_pct;
      panel = new Panel(
        driver,
        () => {
          const view = rewards?.view();
          return panelInput(supervisor.view(), view && rewardFigures(view, threshold), uplink.state);
        },
        settings.panel,
      );
      panel.start();
    } catch (err) {
      logger.warn(
        `panel: /dev/i2c-${config.panel.i2c_bus} unavailable (${(err as Error).message}); running without it`,
      );
    }
  }

  const control = new ControlServer(
    supervisor,
    {
      ...firmwareSources({ view: () => supervisor.view(), panel, rewards: () => rewards }),
      config: { show: () => config },
      attach: sshAttach((n) => boardAddress(config, n), {
        ...(attachKey ? { identity: attachKey } : {}),
        knownHosts: join(config.supervisor.state_dir, 'known_hosts'),
      }),
    },
    { path: DEFAULT_CONTROL_PATH, logger },
  );
  try {
    await control.listen();
  } catch (err) {
    logger.error(
      `control socket ${DEFAULT_CONTROL_PATH}: ${(err as Error).message}; the console cannot reach this supervisor`,
    );
  }
  logger.info(
    `supervisor: watching ${config.box.boards} boards, heartbeats on udp/${config.network.heartbeat_port}`,
  );
  await untilStopped();
  await control.close();
  await rewards?.stop();
  await supervisor.stop();
  uplink.stop();
  await panel?.stop();
  await events.flush();
  // Released lines keep their levels in the controller (sysfs exports and PL061-class chips alike).
  for (const board of lines.values()) {
    await board.power?.close();
    await board.reset?.close();
  }
  await watchdog?.close(true);
  return 0;
}
