import { Agent } from '../../agent/agent.js';
import { UsageError } from '../usage-error.js';
import { readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

/** `skyminer agent`: every board's role on a real box. */
export async function agentCommand(argv: string[]): Promise<number> {
  const config = await readRoleConfig(argv);
  const board = config.box.slot;
  if (board === undefined)
    throw new UsageError("the agent needs box.slot in the config (this board's number, 1 = manager)");
  const agent = new Agent({
    board,
    manager: { host: config.network.manager_address, port: config.network.heartbeat_port },
    intervalMs: config.supervisor.heartbeat_interval_ms,
    logger: stderrLogger,
  });
  await agent.start();
  stderrLogger.info(
    `agent: board ${board} reporting to ${config.network.manager_address}:${config.network.heartbeat_port}`,
  );
  await untilStopped();
  await agent.stop();
  return 0;
}
