import { existsSync } from 'node:fs';
import { loadNativeIoctl } from '../../../drivers/native/addon.js';
import { DevWatchdog } from '../../../drivers/watchdog/dev-watchdog.js';
import { Agent } from '../../agent/agent.js';
import { UsageError } from '../usage-error.js';
import { readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

/** `skyminer agent`: every board's role on a real box. */
export async function agentCommand(argv: string[]): Promise<number> {
  const config = await readRoleConfig(argv);
  const board = config.box.slot;
  if (board === undefined)
    throw new UsageError("the agent needs box.slot in the config (this board's number, 1 = manager)");
  // A board without a watchdog device still reports; one with it must be armed before the first heartbeat.
  const watchdog = existsSync(config.agent.watchdog)
    ? new DevWatchdog(config.agent.watchdog, { ioctl: loadNativeIoctl() })
    : undefined;
  if (!watchdog) stderrLogger.warn(`agent: no ${config.agent.watchdog}; running without a hardware watchdog`);
  const agent = new Agent({
    board,
    manager: { host: config.network.manager_address, port: config.network.heartbeat_port },
    intervalMs: config.supervisor.heartbeat_interval_ms,
    logger: stderrLogger,
    // Armed at start, petted while healthy, disarmed by a clean stop (the magic close).
    watchdog: watchdog && {
      device: watchdog,
      timeoutS: config.agent.watchdog_timeout_s,
      disarmOnStop: true,
    },
  });
  await agent.start();
  if (watchdog?.refused) stderrLogger.warn(`agent: ${watchdog.path}: ${watchdog.refused}`);
  if (watchdog) stderrLogger.info(`agent: ${watchdog.path} armed, ${watchdog.timeoutS} s`);
  stderrLogger.info(
    `agent: board ${board} reporting to ${config.network.manager_address}:${config.network.heartbeat_port}`,
  );
  await untilStopped();
  await agent.stop();
  return 0;
}
