import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openOutputLine } from '../../../drivers/gpio/open.js';
import type { LineSpec, OutputLine } from '../../../drivers/gpio/line.js';
import { openI2cBus } from '../../../drivers/i2c/bus.js';
import type { Logger } from '../../../drivers/logger.js';
import { loadNativeIoctl } from '../../../drivers/native/addon.js';
import { DevWatchdog } from '../../../drivers/watchdog/dev-watchdog.js';
import { Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { Panel } from '../../panel/panel.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import { Supervisor, type BoardLines } from '../../supervisor/supervisor.js';
import type { Config } from '../../config/schema.js';
import { readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

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

/** The manager's own watchdog: nothing else can reset the manager, so a stalled loop must. */
async function armOwnWatchdog(config: Config, logger: Logger): Promise<DevWatchdog | undefined> {
  try {
    const device = new DevWatchdog(config.supervisor.watchdog, { ioctl: loadNativeIoctl() });
    await device.open(config.supervisor.watchdog_timeout_s);
    if (device.refused) logger.warn(`watchdog: ${device.path}: ${device.refused}`);
    logger.info(`watchdog: ${device.path} armed, ${device.timeoutS} s`);
    return device;
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
  const events = new JsonLinesEventLog(join(config.supervisor.state_dir, 'events.jsonl'), (m) =>
    logger.warn(m),
  );
  const lines = await openBoardLines(config, logger);
  const supervisor = new Supervisor({
    boards: config.box.boards,
    lines,
    listen: { host: '0.0.0.0', port: config.network.heartbeat_port },
    policy: {
      heartbeatTimeoutMs: config.supervisor.heartbeat_timeout_ms,
      bootTimeoutMs: config.supervisor.boot_timeout_s * 1000,
    },
    powerOnGapMs: config.supervisor.power_on_gap_ms,
    logger,
    events: events.sink,
  });
  await supervisor.start();
  const watchdog = await armOwnWatchdog(config, logger);
  // Petted from the main loop: if the loop stalls, the petting stops and the manager resets.
  const petTimer = watchdog
    ? setInterval(() => void watchdog.pet(), Math.max(1, watchdog.timeoutS) * 250)
    : undefined;

  // A missing or broken panel must not keep the supervisor from supervising.
  let panel: Panel | undefined;
  if (config.panel.enabled) {
    try {
      const bus = await openI2cBus(config.panel.i2c_bus);
      const driver = new Ssd1306(bus, { address: config.panel.address, height: config.panel.height, logger });
      panel = new Panel(driver, () => supervisor.view());
      panel.start();
    } catch (err) {
      logger.warn(
        `panel: /dev/i2c-${config.panel.i2c_bus} unavailable (${(err as Error).message}); running without it`,
      );
    }
  }
  logger.info(
    `supervisor: watching ${config.box.boards} boards, heartbeats on udp/${config.network.heartbeat_port}`,
  );
  await untilStopped();
  clearInterval(petTimer);
  await supervisor.stop();
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
