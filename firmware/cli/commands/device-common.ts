import { parseArgs } from 'node:util';
import type { Logger } from '../../../drivers/logger.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/** Both device roles take only `--config FILE`; a bad file stops them before anything is opened or written. */
export async function readRoleConfig(argv: string[]): Promise<Config> {
  const { values } = parseArgs({ args: argv, strict: true, options: { config: { type: 'string' } } });
  return loadConfig(values.config ?? DEFAULT_CONFIG_PATH);
}

/** Log lines for OpenRC's supervise-daemon, which sends stderr to the system log. */
export const stderrLogger: Logger = {
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
};

/** Resolves on SIGINT or SIGTERM, the way the init system stops a service. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** Board n's address: the first board's address plus n - 1 in the last octet. */
export function boardAddress(config: Config, board: number): string {
  const parts = config.network.first_board_address.split('.').map(Number);
  parts[3] = parts[3]! + board - 1;
  return parts.join('.');
}
