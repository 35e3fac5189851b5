import type { Logger } from '../../drivers/logger.js';
import type { Config } from '../config/schema.js';
import { PasswordStore, passwordFile } from '../console/password.js';
import type { SupervisorOperator } from '../supervisor/operator.js';
import { ControlServer } from './server.js';
import type { AttachCommand, ControlSources } from './sources.js';

export interface StartControlOptions {
  path: string;
  config: Config;
  logger?: Logger;
  /** Sets the console password in the state dir (the simulator's `--console-password`). */
  consolePassword?: string;
  /** Sources beside the simulator's own (disks, rewards, panel), as their parts provide them. */
  sources?: ControlSources;
  /** Group allowed beside root; null leaves it alone (the default for the simulator). */
  group?: string | null;
}

/**
 * The simulator's control socket: the same server the supervisor runs on a box. There is no board host to ssh
 * to in the simulator, so `attach <n>` opens a local shell, and says so.
 */
export async function startControl(
  sim: { supervisor: SupervisorOperator },
  options: StartControlOptions,
): Promise<ControlServer> {
  if (options.consolePassword !== undefined) {
    await new PasswordStore(passwordFile(options.config.supervisor.state_dir)).set(options.consolePassword);
  }
  const server = new ControlServer(
    sim.supervisor,
    {
      config: { show: () => options.config },
      attach: simulatedAttach,
      ...options.sources,
    },
    { path: options.path, group: options.group ?? null, logger: options.logger },
  );
  await server.listen();
  options.logger?.info(
    `console: skyminer console --control ${options.path} --state-dir ${options.config.supervisor.state_dir}`,
  );
  return server;
}

function simulatedAttach(board: number): AttachCommand {
  return {
    argv: [process.env.SHELL || '/bin/sh'],
    env: { SKYMINER_BOARD: String(board) },
    note: `simulator: board ${board} has no host of its own, so this is a local shell standing in for ssh`,
  };
}
