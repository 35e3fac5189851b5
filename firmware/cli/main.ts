#!/usr/bin/env node
import { KeyError } from '../auth/keys.js';
import { ConfigError } from '../config/load.js';
import {
  consoleCommand,
  CONSOLE_USAGE,
  isConsoleCommand,
  runCliCommand,
  takeControlOption,
} from '../console/cli.js';
import { helpText } from '../console/commands.js';
import { SIM_USAGE } from './commands/sim-usage.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: skyminer <command> [options]

commands:
  sim          run a whole Skyminer on emulated hardware (what \`make run\` starts)
  supervisor   the manager's supervisor (reads the config file)
  agent        the per-board agent (reads the config file)
  console      the interactive console on this terminal (the UART's, on a box)
  update       install a signed firmware bundle into the spare root slot and try it (see skyminer update)
  visor-update install a signed Skywire visor bundle on this board, falling back when it does not come up

${helpText()}

${SIM_USAGE}
       skyminer supervisor [--config FILE]
       skyminer agent [--config FILE]
${CONSOLE_USAGE}`;

const COMMAND_LIST = 'status, boards, board, disks, rewards, skywire, events, panel, config, shell, attach';

async function main(args: string[]): Promise<number> {
  // `--control PATH` belongs to the console commands; the device roles and sim parse their own options.
  // `update --box` is the console's `update` (the whole box, through the manager); plain `update` is this board.
  const boxUpdate = args[0] === 'update' && args.includes('--box');
  const control =
    ['sim', 'supervisor', 'agent', 'visor-update'].includes(args[0] ?? '') ||
    (args[0] === 'update' && !boxUpdate)
      ? { control: undefined, rest: args }
      : takeControlOption(args);
  if (typeof control === 'string') throw new UsageError(control);
  const argv = control.rest;
  const [command, ...rest] = argv;
  if (boxUpdate) return runCliCommand(['update', ...rest.filter((w) => w !== '--box')], control.control);
  if (command === 'update') return (await import('./commands/update.js')).updateCommand(rest);
  if (isConsoleCommand(command)) return runCliCommand(argv, control.control);
  switch (command) {
    case 'console':
      return consoleCommand(rest, control.control);
    // The roles load only their own modules: a console command on a board is not kept waiting for the simulator.
    case 'sim':
      return (await import('./commands/sim.js')).simCommand(rest);
    case 'supervisor':
      return (await import('./commands/supervisor.js')).supervisorCommand(rest);
    case 'agent':
      return (await import('./commands/agent.js')).agentCommand(rest);
    case 'update':
      return (await import('./commands/update.js')).updateCommand(rest);
    case 'visor-update':
      return (await import('./commands/visor-update.js')).visorUpdateCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      if (command === 'help' && rest.length) return runCliCommand(argv, control.control);
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(
        `unknown command "${command}"; commands: sim, supervisor, agent, console, update, visor-update, ${COMMAND_LIST} (see skyminer help)`,
      );
  }
}

/*
 * A reader that goes away (`skyminer events --follow | head -1`) ends the command quietly with exit 0, whatever
 * writes to stdout: a running role stops as on SIGTERM (so it saves its state), anything else exits at once.
 */
let readerGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  if (readerGone) return;
  readerGone = true;
  process.exitCode = 0;
  if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
  else process.exit(0);
});

main(process.argv.slice(2))
  .then(
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
  )
  .finally(() => {
    // A command that failed is over: timers or sockets a half-started role left behind must not keep it running.
    if (process.exitCode !== 0 && process.exitCode !== undefined) process.exit();
  });
