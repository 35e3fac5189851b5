#!/usr/bin/env node
import { KeyError } from '../auth/keys.js';
import { ConfigError } from '../config/load.js';
import { agentCommand } from './commands/agent.js';
import { simCommand, SIM_USAGE } from './commands/sim.js';
import { supervisorCommand } from './commands/supervisor.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: skyminer <command> [options]

commands:
  sim          run a whole Skyminer on emulated hardware (what \`make run\` starts)
  supervisor   the manager's supervisor (reads the config file)
  agent        the per-board agent (reads the config file)

${SIM_USAGE}
       skyminer supervisor [--config FILE]
       skyminer agent [--config FILE]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sim':
      return simCommand(rest);
    case 'supervisor':
      return supervisorCommand(rest);
    case 'agent':
      return agentCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `unknown command "${command}"; commands: sim, supervisor, agent (see skyminer help)`,
      );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof KeyError) {
      console.error(`skyminer: ${err.message}`);
      process.exitCode = 78; // EX_CONFIG
      return;
    }
    if (err instanceof UsageError) {
      console.error(`skyminer: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    // parseArgs reports unknown or malformed options with a code; keep them to one line too.
    const code = (err as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`skyminer: ${(err as Error).message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`skyminer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
