import { describe, expect, it } from 'vitest';
import { complete, helpText, parseCommand } from '../../../firmware/console/commands.js';
import { printable, splitWords } from '../../../firmware/console/words.js';

const parse = (line: string) => {
  const words = splitWords(line);
  if (!words.ok) return { ok: false as const, error: words.error };
  return parseCommand(words.words);
};

describe('command line words', () => {
  it('splits on blanks and keeps quoted text whole', () => {
    expect(splitWords(`panel snapshot "my picture.png"`)).toEqual({
      ok: true,
      words: ['panel', 'snapshot', 'my picture.png'],
    });
    expect(splitWords(`config check '/tmp/a b.conf'  `)).toEqual({
      ok: true,
      words: ['config', 'check', '/tmp/a b.conf'],
    });
    expect(splitWords(`a\\ b "say \\"hi\\"" ''`)).toEqual({ ok: true, words: ['a b', 'say "hi"', ''] });
  });

  it('refuses unbalanced quotes, a trailing backslash and control characters with one line', () => {
    expect(splitWords(`board "3`)).toEqual({ ok: false, error: 'unbalanced double quote' });
    expect(splitWords(`board '3`)).toEqual({ ok: false, error: 'unbalanced single quote' });
    expect(splitWords('board 3\\')).toEqual({
      ok: false,
      error: 'a backslash ends the line; nothing follows it to escape',
    });
    expect(splitWords('status\x1b[31m')).toEqual({
      ok: false,
      error: 'control character "\\u001b" in the line; type plain text',
    });
    expect(splitWords('x'.repeat(5000))).toEqual({
      ok: false,
      error: 'line too long (5000 characters; at most 4096)',
    });
  });

  it('quotes hostile text so that echoing it cannot drive the terminal', () => {
    expect(printable('\x1b]0;owned\x07\u009b2J')).toBe('"\\u001b]0;owned\\u0007\\u009b2J"');
    expect(printable('a'.repeat(50))).toBe(`"${'a'.repeat(40)}…"`);
  });
});

describe('command parsing', () => {
  it('reads every command of the set with its arguments', () => {
    const base = { json: false, yes: false };
    expect(parse('status')).toEqual({ ok: true, command: { name: 'status', ...base } });
    expect(parse('boards --json')).toEqual({ ok: true, command: { name: 'boards', json: true, yes: false } });
    expect(parse('board 3')).toEqual({ ok: true, command: { name: 'board', board: 3, ...base } });
    expect(parse('board 3 reset --yes')).toEqual({
      ok: true,
      command: { name: 'board', board: 3, operation: 'reset', json: false, yes: true },
    });
    expect(parse('events --follow --board=4')).toEqual({
      ok: true,
      command: { name: 'events', follow: true, board: 4, ...base },
    });
    expect(parse('events --board 2')).toEqual({
      ok: true,
      command: { name: 'events', follow: false, board: 2, ...base },
    });
    expect(parse('panel')).toEqual({ ok: true, command: { name: 'panel', action: 'pages', ...base } });
    expect(parse('panel page rewards')).toEqual({
      ok: true,
      command: { name: 'panel', action: 'page', page: 'rewards', ...base },
    });
    expect(parse('panel snapshot /tmp/p.png')).toEqual({
      ok: true,
      command: { name: 'panel', action: 'snapshot', file: '/tmp/p.png', ...base },
    });
    expect(parse('panel dim')).toEqual({ ok: true, command: { name: 'panel', action: 'dim', ...base } });
    expect(parse('config')).toEqual({ ok: true, command: { name: 'config', action: 'show', ...base } });
    expect(parse('config check a.conf')).toEqual({
      ok: true,
      command: { name: 'config', action: 'check', file: 'a.conf', ...base },
    });
    expect(parse('attach 5')).toEqual({ ok: true, command: { name: 'attach', board: 5, ...base } });
    expect(parse('help board')).toEqual({ ok: true, command: { name: 'help', topic: 'board', ...base } });
    for (const name of ['disks', 'rewards', 'skywire', 'shell', 'logout']) {
      expect(parse(name)).toEqual({ ok: true, command: { name, ...base } });
    }
  });

  it('reads a box-wide update: a bundle or URL starts one, status and stop look at it', () => {
    expect(parseCommand(['update', '/tmp/1.2.0.bundle'])).toEqual({
      ok: true,
      command: { name: 'update', action: 'start', source: '/tmp/1.2.0.bundle', json: false, yes: false },
    });
    expect(parseCommand(['update'])).toMatchObject({
      ok: true,
      command: { name: 'update', action: 'status' },
    });
    expect(parseCommand(['update', 'stop'])).toMatchObject({ ok: true, command: { action: 'stop' } });
    expect(parseCommand(['update', 'a', 'b'])).toEqual({
      ok: false,
      error: 'update: unexpected "b"; usage: update [<bundle|URL>|status|stop]',
    });
  });

  it("reads the hypervisor password commands, refusing a new password the hypervisor's rules refuse", () => {
    const base = { name: 'skywire', json: false, yes: false };
    expect(parse('skywire password')).toEqual({ ok: true, command: { ...base, password: {} } });
    expect(parse('skywire password set Nouveau-pass2')).toEqual({
      ok: true,
      command: { ...base, password: { set: 'Nouveau-pass2' } },
    });
    expect(parse('skywire password set skywire')).toEqual({
      ok: false,
      error:
        'skywire password: the password needs an upper-case letter, a lower-case letter, a digit and a symbol',
    });
    expect(parse('skywire password set Ab1!')).toEqual({
      ok: false,
      error: 'skywire password: the password must be 6 to 64 characters',
    });
    expect(parse('skywire password set')).toEqual({
      ok: false,
      error: 'skywire: password set needs the new password; usage: skywire [password [set <new password>]]',
    });
    expect(parse('skywire password set Two words1!')).toMatchObject({
      ok: false,
      error: expect.stringContaining('the password is one word: no spaces') as unknown,
    });
    expect(parse('skywire pasword')).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown action "pasword"') as unknown,
    });
    expect(parse('skywire password show')).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown password action "show"') as unknown,
    });
    expect(complete('skywire p', 4)).toEqual([['password '], 'p']);
    expect(complete('skywire password ', 4)).toEqual([['set '], '']);
  });

  it('takes a reward address only when it is a Skycoin address, saying what is wrong with it', () => {
    const address = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
    expect(parse(`rewards address ${address}`)).toEqual({
      ok: true,
      command: { name: 'rewards', address, json: false, yes: false },
    });
    expect(parse('rewards address 2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os7')).toEqual({
      ok: false,
      error: 'rewards address: not a Skycoin address: its checksum does not match (a mistyped character?)',
    });
    expect(parse('rewards address 0xdeadbeef')).toEqual({
      ok: false,
      error: 'rewards address: not a Skycoin address: "0" is not a base58 character',
    });
    expect(parse('rewards address')).toEqual({
      ok: false,
      error:
        'rewards: address needs the Skycoin address to pay the rewards to; usage: rewards [address <skycoin address>]',
    });
    expect(parse(`rewards adress ${address}`)).toMatchObject({
      ok: false,
      error: expect.stringContaining('unknown action "adress"'),
    });
    expect(complete('rewards a', 8)).toEqual([['address '], 'a']);
  });

  it('says what was wrong and what is accepted, on one line', () => {
    expect(parse('reboot')).toEqual({
      ok: false,
      error:
        'unknown command "reboot"; commands: status, boards, board, disks, rewards, skywire, events, panel, config, shell, attach, update, logout, help',
    });
    expect(parse('board')).toEqual({
      ok: false,
      error: 'board: needs a board number; usage: board <n> [on|off|reset|cycle|release]',
    });
    expect(parse('board three')).toEqual({
      ok: false,
      error: 'board: expected a board number, got "three"; usage: board <n> [on|off|reset|cycle|release]',
    });
    expect(parse('board 0')).toEqual({
      ok: false,
      error: 'board: expected a board number from 1, got 0; usage: board <n> [on|off|reset|cycle|release]',
    });
    expect(parse('board 3 explode')).toEqual({
      ok: false,
      error: 'board: unknown operation "explode"; operations: on, off, reset, cycle, release',
    });
    expect(parse('events --board')).toEqual({ ok: false, error: 'events: --board needs a board number' });
    expect(parse('events --tail')).toEqual({
      ok: false,
      error: 'events: unknown option "--tail"; accepted: --follow, --board, --json',
    });
    expect(parse('shell --json')).toEqual({
      ok: false,
      error: 'shell: unknown option "--json"; it takes no options',
    });
    expect(parse('panel page')).toEqual({
      ok: false,
      error: 'panel: page needs a page name; usage: panel [page <name>|cycle|snapshot <file>|dim|off|on]',
    });
    expect(parse('status now')).toEqual({ ok: false, error: 'status: unexpected "now"; usage: status' });
    expect(parse('help me')).toEqual({
      ok: false,
      error:
        'help: no command "me"; commands: status, boards, board, disks, rewards, skywire, events, panel, config, shell, attach, update, logout, help',
    });
  });

  it('keeps every help line within 80 columns', () => {
    for (const line of helpText().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(helpText('board')).toContain('usage: board <n> [on|off|reset|cycle|release]');
  });
});

describe('tab completion', () => {
  it('completes command names, board numbers, operations and panel pages', () => {
    expect(complete('bo', 8)).toEqual([['boards ', 'board '], 'bo']);
    expect(complete('board ', 4)).toEqual([['1 ', '2 ', '3 ', '4 '], '']);
    expect(complete('board 1', 12)).toEqual([['1 ', '10 ', '11 ', '12 '], '1']);
    expect(complete('board 3 re', 8)).toEqual([['reset ', 'release '], 're']);
    expect(complete('attach ', 4)).toEqual([['1 ', '2 ', '3 ', '4 '], '']);
    expect(complete('events --board ', 4)).toEqual([['1 ', '2 ', '3 ', '4 '], '']);
    expect(complete('events --f', 4)).toEqual([['--follow '], '--f']);
    expect(complete('panel page o', 4, ['overview', 'rewards'])).toEqual([['overview '], 'o']);
    expect(complete('help ev', 4)).toEqual([['events '], 'ev']);
    expect(complete('status x', 4)).toEqual([[], 'x']);
  });
});
