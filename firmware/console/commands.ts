import type { BoardOperation } from '../supervisor/operator.js';
import { checkRewardAddress } from '../rewards/reward-address.js';
import { passwordProblem } from '../skywire/hypervisor-account.js';
import { printable } from './words.js';

/** Exit codes, as the BSD sysexits convention and the shells use them. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 69 } as const;

export const PANEL_ACTIONS = ['page', 'cycle', 'snapshot', 'dim', 'off', 'on'] as const;
export const BOARD_OPERATIONS = ['on', 'off', 'reset', 'cycle', 'release'] as const;

/** A parsed command: what to do, with its arguments checked for form (board ranges are checked against the box). */
export type Command = (
  | { name: 'status' }
  | { name: 'boards' }
  | { name: 'board'; board: number; operation?: BoardOperation }
  | { name: 'disks' }
  | { name: 'rewards'; address?: string }
  | { name: 'skywire'; password?: { set?: string } }
  | { name: 'events'; follow: boolean; board?: number }
  | { name: 'panel'; action: 'pages' | 'page' | 'cycle' | 'dim' | 'off' | 'on'; page?: string }
  | { name: 'panel'; action: 'snapshot'; file: string }
  | { name: 'config'; action: 'show' }
  | { name: 'config'; action: 'check'; file: string }
  | { name: 'shell' }
  | { name: 'attach'; board: number }
  | { name: 'logout' }
  | { name: 'help'; topic?: string }
  | { name: 'update'; action: 'status' | 'stop' }
  | { name: 'update'; action: 'start'; source: string }
) & { json: boolean; yes: boolean };

export type CommandName = Command['name'];

interface Spec {
  name: CommandName;
  usage: string;
  summary: string;
  /** Options this command takes beside --json (read commands) and --yes (operations). */
  options: readonly string[];
  /** Takes --json. */
  json: boolean;
}

/** The one command set of the console and the CLI, in the order help lists it. */
export const COMMANDS: readonly Spec[] = [
  { name: 'status', usage: 'status', summary: 'the box at a glance', options: [], json: true },
  {
    name: 'boards',
    usage: 'boards',
    summary: 'every board: status, uptime, health',
    options: [],
    json: true,
  },
  {
    name: 'board',
    usage: 'board <n> [on|off|reset|cycle|release]',
    summary: 'show one board, or switch, reset or release it',
    options: ['--yes'],
    json: true,
  },
  { name: 'disks', usage: 'disks', summary: 'the cache disks and their health', options: [], json: true },
  {
    name: 'rewards',
    usage: 'rewards [address <skycoin address>]',
    summary: 'standing per board, estimates; set the address',
    options: [],
    json: true,
  },
  {
    name: 'skywire',
    usage: 'skywire [password [set <new password>]]',
    summary: 'each visor; the hypervisor UI, its password',
    options: [],
    json: true,
  },
  {
    name: 'events',
    usage: 'events [--follow] [--board n]',
    summary: 'recent events; --follow keeps printing',
    options: ['--follow', '--board'],
    json: true,
  },
  {
    name: 'panel',
    usage: 'panel [page <name>|cycle|snapshot <file>|dim|off|on]',
    summary: 'list, pin or cycle pages; save a picture; dim',
    options: [],
    json: true,
  },
  {
    name: 'config',
    usage: 'config [show|check <file>]',
    summary: 'the config in force, or check a config file',
    options: [],
    json: true,
  },
  { name: 'shell', usage: 'shell', summary: 'a login shell on the manager', options: [], json: false },
  {
    name: 'attach',
    usage: 'attach <n>',
    summary: "a shell on board n over the box's network",
    options: [],
    json: false,
  },
  {
    name: 'update',
    usage: 'update [<bundle|URL>|status|stop]',
    summary: 'update every board, the manager last',
    options: [],
    json: true,
  },
  { name: 'logout', usage: 'logout', summary: 'lock the console', options: [], json: false },
  {
    name: 'help',
    usage: 'help [command]',
    summary: 'this list, or one command in detail',
    options: [],
    json: false,
  },
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** Operations that cut power or reset a board, asked for confirmation. */
export function needsConfirmation(command: Command): command is Extract<Command, { name: 'board' }> & {
  operation: 'on' | 'off' | 'reset' | 'cycle';
} {
  return command.name === 'board' && command.operation !== undefined && command.operation !== 'release';
}

export type Parsed = { ok: true; command: Command } | { ok: false; error: string };

/** Checks a command's words for form; the error is one line saying what was wrong and what is accepted. */
export function parseCommand(words: readonly string[]): Parsed {
  const [name, ...rest] = words;
  if (name === undefined) return { ok: false, error: 'no command; type help for the list' };
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec)
    return { ok: false, error: `unknown command ${printable(name)}; commands: ${COMMAND_NAMES.join(', ')}` };
  const accepted = [...spec.options, ...(spec.json ? ['--json'] : [])];
  const args: string[] = [];
  let json = false;
  let yes = false;
  let follow = false;
  let board: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('--') || word === '--') {
      args.push(word);
      continue;
    }
    const [flag, inline] = word.includes('=')
      ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]
      : [word, undefined];
    if (!accepted.includes(flag)) {
      const list = accepted.length ? `accepted: ${accepted.join(', ')}` : 'it takes no options';
      return { ok: false, error: `${name}: unknown option ${printable(flag)}; ${list}` };
    }
    if (flag === '--board') {
      const value = inline ?? rest[++i];
      if (value === undefined) return { ok: false, error: `${name}: --board needs a board number` };
      const n = boardNumber(value);
      if (typeof n === 'string') return { ok: false, error: `${name}: --board: ${n}` };
      board = n;
      continue;
    }
    if (inline !== undefined) return { ok: false, error: `${name}: ${flag} takes no value` };
    if (flag === '--json') json = true;
    else if (flag === '--yes') yes = true;
    else if (flag === '--follow') follow = true;
  }
  const common = { json, yes };
  const usage = (what: string): Parsed => ({ ok: false, error: `${name}: ${what}; usage: ${spec.usage}` });
  const none = (command: Command): Parsed =>
    args.length ? usage(`unexpected ${printable(args[0]!)}`) : { ok: true, command };

  switch (spec.name) {
    case 'rewards': {
      const [action, address, extra] = args;
      if (action === undefined) return { ok: true, command: { name: 'rewards', ...common } };
      if (action !== 'address') return usage(`unknown action ${printable(action)}`);
      if (address === undefined) return usage('address needs the Skycoin address to pay the rewards to');
      if (extra !== undefined) return usage(`unexpected ${printable(extra)}`);
      const checked = checkRewardAddress(address);
      if (!checked.ok)
        return {
          ok: false,
          error: `rewards address: ${checked.error.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')}`,
        };
      return { ok: true, command: { name: 'rewards', address: checked.address, ...common } };
    }
    case 'skywire': {
      const [action, set, next, extra] = args;
      if (action === undefined) return { ok: true, command: { name: 'skywire', ...common } };
      if (action !== 'password') return usage(`unknown action ${printable(action)}`);
      if (set === undefined) return { ok: true, command: { name: 'skywire', password: {}, ...common } };
      if (set !== 'set') return usage(`unknown password action ${printable(set)}`);
      if (next === undefined) return usage('password set needs the new password');
      if (extra !== undefined) return usage('the password is one word: no spaces');
      // The hypervisor's own rules, checked before anything is sent.
      const problem = passwordProblem(next);
      if (problem) return { ok: false, error: `skywire password: ${problem}` };
      return { ok: true, command: { name: 'skywire', password: { set: next }, ...common } };
    }
    case 'status':
    case 'boards':
    case 'disks':
    case 'shell':
    case 'logout':
      return none({ name: spec.name, ...common });
    case 'events':
      return none({ name: 'events', follow, ...(board !== undefined ? { board } : {}), ...common });
    case 'board':
    case 'attach': {
      if (args.length === 0) return usage('needs a board number');
      const n = boardNumber(args[0]!);
      if (typeof n === 'string') return usage(n);
      if (spec.name === 'attach') {
        return args.length > 1
          ? usage(`unexpected ${printable(args[1]!)}`)
          : { ok: true, command: { name: 'attach', board: n, ...common } };
      }
      if (args.length > 2) return usage(`unexpected ${printable(args[2]!)}`);
      const op = args[1];
      if (op === undefined) return { ok: true, command: { name: 'board', board: n, ...common } };
      if (!(BOARD_OPERATIONS as readonly string[]).includes(op)) {
        return {
          ok: false,
          error: `board: unknown operation ${printable(op)}; operations: ${BOARD_OPERATIONS.join(', ')}`,
        };
      }
      return { ok: true, command: { name: 'board', board: n, operation: op as BoardOperation, ...common } };
    }
    case 'update': {
      const [what, extra] = args;
      if (extra !== undefined) return usage(`unexpected ${printable(extra)}`);
      if (what === undefined || what === 'status')
        return { ok: true, command: { name: 'update', action: 'status', ...common } };
      if (what === 'stop') return { ok: true, command: { name: 'update', action: 'stop', ...common } };
      return { ok: true, command: { name: 'update', action: 'start', source: what, ...common } };
    }
    case 'panel': {
      const [action, arg, extra] = args;
      if (action === undefined) return { ok: true, command: { name: 'panel', action: 'pages', ...common } };
      if (!(PANEL_ACTIONS as readonly string[]).includes(action)) {
        return usage(`unknown action ${printable(action)}`);
      }
      if (action === 'page' || action === 'snapshot') {
        if (arg === undefined)
          return usage(`${action} needs a ${action === 'page' ? 'page name' : 'file name'}`);
        if (extra !== undefined) return usage(`unexpected ${printable(extra)}`);
        if (action === 'snapshot')
          return { ok: true, command: { name: 'panel', action, file: arg, ...common } };
        return { ok: true, command: { name: 'panel', action, page: arg, ...common } };
      }
      if (arg !== undefined) return usage(`unexpected ${printable(arg)}`);
      return {
        ok: true,
        command: { name: 'panel', action: action as 'cycle' | 'dim' | 'off' | 'on', ...common },
      };
    }
    case 'config': {
      const [action, arg, extra] = args;
      if (action === undefined || action === 'show') {
        return arg !== undefined
          ? usage(`unexpected ${printable(arg)}`)
          : { ok: true, command: { name: 'config', action: 'show', ...common } };
      }
      if (action !== 'check') return usage(`unknown action ${printable(action)}`);
      if (arg === undefined) return usage('check needs a file name');
      if (extra !== undefined) return usage(`unexpected ${printable(extra)}`);
      return { ok: true, command: { name: 'config', action: 'check', file: arg, ...common } };
    }
    case 'help': {
      const [topic, extra] = args;
      if (extra !== undefined) return usage(`unexpected ${printable(extra)}`);
      if (topic !== undefined && !COMMAND_NAMES.includes(topic)) {
        return {
          ok: false,
          error: `help: no command ${printable(topic)}; commands: ${COMMAND_NAMES.join(', ')}`,
        };
      }
      return { ok: true, command: { name: 'help', ...(topic !== undefined ? { topic } : {}), ...common } };
    }
  }
}

/** A board number's form: a whole number 1 to 64 (the box's own count is checked when the command runs). */
export function boardNumber(word: string): number | string {
  if (!/^\d{1,3}$/.test(word)) return `expected a board number, got ${printable(word)}`;
  const n = Number(word);
  if (n < 1 || n > 64) return `expected a board number from 1, got ${n}`;
  return n;
}

/** The help text: every command, or one in detail. */
export function helpText(topic?: string): string {
  if (topic !== undefined) {
    const spec = COMMANDS.find((c) => c.name === topic)!;
    const options = [...spec.options, ...(spec.json ? ['--json'] : [])];
    return [
      `usage: ${spec.usage}`,
      `  ${spec.summary}`,
      ...(options.length ? [`  options: ${options.join(', ')}`] : []),
      ...(HELP_DETAIL[spec.name] ?? []).map((l) => `  ${l}`),
    ].join('\n');
  }
  // Usages longer than the column get a line of their own, so that no line passes 80 columns.
  const width = 30;
  const lines = COMMANDS.map((c) =>
    c.usage.length > width
      ? `  ${c.usage}\n  ${' '.repeat(width)}  ${c.summary}`
      : `  ${c.usage.padEnd(width)}  ${c.summary}`,
  );
  return ['commands:', ...lines, 'read commands take --json; help <command> tells more'].join('\n');
}

const HELP_DETAIL: Partial<Record<CommandName, string[]>> = {
  board: [
    'on, off, reset and cycle ask for confirmation (--yes answers it in the CLI);',
    'release clears a quarantine. Board 1 is the manager and has no power line.',
  ],
  events: ['Ctrl-C stops --follow.'],
  update: [
    'A signed bundle (a path on the manager, or a URL) goes to one board at a time: each',
    'installs it into its spare slot, reboots into it and commits once the manager hears',
    'it healthy; the manager goes last. A board is taken down only while every other',
    'board is up. The first refusal, rollback or unhealthy board stops it, named in',
    'update status. update stop ends it; boards already done keep the new firmware.',
    'A visor bundle (SKYVISR1) goes the same way, but each board restarts its visor on',
    'the new binary instead of rebooting, and keeps it only if it stays up.',
  ],
  rewards: [
    'address checks the address (base58, checksum), keeps it on the manager and',
    "sets it on every board's visor through the hypervisor; a new visor gets it too.",
  ],
  skywire: [
    'A visor that started less than five minutes ago says connecting: that is normal.',
    "password shows the hypervisor UI's password (user admin); password set changes it",
    'on the hypervisor, then where the manager keeps it. The hypervisor takes 6 to 64',
    'characters with an upper-case and a lower-case letter, a digit and a symbol.',
  ],
  attach: ['Ctrl-D or exit in that shell brings you back.'],
  logout: ['The console also locks itself after a while without typing.'],
};

/**
 * Tab completion: the words that may finish the last word of `line`, given the board count. Pure, so that the
 * console's completion is tested without a terminal.
 */
export function complete(line: string, boards: number, pages: readonly string[] = []): [string[], string] {
  const words = line.split(/\s+/);
  const last = words.at(-1) ?? '';
  const before = words.slice(0, -1).filter((w) => w !== '');
  const numbers = Array.from({ length: boards }, (_, i) => String(i + 1));
  let candidates: readonly string[] = [];
  if (before.length === 0) candidates = COMMAND_NAMES;
  else {
    const [command, ...args] = before;
    if (args.at(-1) === '--board') candidates = numbers;
    else if (last.startsWith('-')) {
      const spec = COMMANDS.find((c) => c.name === command);
      candidates = spec ? [...spec.options, ...(spec.json ? ['--json'] : [])] : [];
    } else if (command === 'board' || command === 'attach') {
      if (args.length === 0) candidates = numbers;
      else if (args.length === 1 && command === 'board') candidates = BOARD_OPERATIONS;
    } else if (command === 'panel') {
      if (args.length === 0) candidates = PANEL_ACTIONS;
      else if (args.length === 1 && args[0] === 'page') candidates = pages;
    } else if (command === 'config' && args.length === 0) candidates = ['show', 'check'];
    else if (command === 'rewards' && args.length === 0) candidates = ['address'];
    else if (command === 'skywire' && args.length === 0) candidates = ['password'];
    else if (command === 'skywire' && args.length === 1 && args[0] === 'password') candidates = ['set'];
    else if (command === 'help' && args.length === 0) candidates = COMMAND_NAMES;
  }
  const hits = candidates.filter((c) => c.startsWith(last)).map((c) => c + ' ');
  return [hits, last];
}
