import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyLineReader } from '../../../firmware/console/key-reader.js';
import {
  hashPassword,
  loginDelayMs,
  parseHash,
  passwordProblem,
  LOCKED_REASON,
  PasswordStore,
  verifyPassword,
} from '../../../firmware/console/password.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('console password', () => {
  it('stores a salted scrypt hash that verifies the password and nothing else', async () => {
    const hash = await hashPassword('correct horse', FAST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await hashPassword('correct horse', FAST)).not.toBe(hash); // a fresh salt each time
  });

  it('refuses hashes it cannot check safely, such as a memory-exhausting cost', () => {
    expect(parseHash('scrypt$1024$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).not.toBeNull();
    expect(parseHash('scrypt$4194304$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toBeNull();
    expect(parseHash('scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toBeNull();
    expect(parseHash('$6$salt$sha512crypt')).toBeNull();
  });

  it('writes the hash atomically with mode 0600 and reads back each state of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pw-'));
    const store = new PasswordStore(join(dir, 'state', 'console-password'));
    expect(await store.read()).toEqual({ kind: 'unset' });
    await store.set('a long enough password');
    const file = join(dir, 'state', 'console-password');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'state'))).toEqual(['console-password']); // no temporary file left
    const state = await store.read();
    expect(state.kind).toBe('set');
    if (state.kind === 'set') expect(await verifyPassword('a long enough password', state.hash)).toBe(true);
    expect((await readFile(file, 'utf8')).endsWith('\n')).toBe(true);

    await writeFile(file, '!\n');
    expect(await store.read()).toEqual({
      kind: 'locked',
      reason: LOCKED_REASON,
    });
    await writeFile(file, 'hunter2\n');
    expect(await store.read()).toEqual({ kind: 'locked', reason: `${file} does not hold a password hash` });
  });

  it('accepts only passwords of at least 8 printable characters', () => {
    expect(passwordProblem('short')).toBe('too short: at least 8 characters');
    expect(passwordProblem('tab\tinside it')).toBe('control characters are not allowed');
    expect(passwordProblem('eight ch')).toBeNull();
  });

  it('doubles the wait after each failed login, up to a minute', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 50].map((n) => loginDelayMs(n))).toEqual([
      0, 1000, 2000, 4000, 8000, 60000, 60000, 60000,
    ]);
    expect(loginDelayMs(3, { baseMs: 10, maxMs: 25 })).toBe(25);
  });
});

describe('password prompt keystrokes', () => {
  const reader = (visible: boolean) => {
    const echoed: string[] = [];
    return { echoed, r: new KeyLineReader({ echo: (s) => echoed.push(s), visible, maxLength: 16 }) };
  };

  it('echoes nothing of a password, edits it with backspace, and hands back what follows Enter', () => {
    const { echoed, r } = reader(false);
    expect(r.feed('secrex')).toBeUndefined();
    expect(r.feed('\x7ft\x1b[Dpw\r\nstatus\r')).toEqual({ line: 'secretpw', rest: 'status\r' });
    expect(echoed).toEqual(['\r\n']);
  });

  it('cancels on Ctrl-C and drops escape sequences split across chunks', () => {
    const { r } = reader(true);
    expect(r.feed('ab\x1b')).toBeUndefined();
    expect(r.feed('[31mc\x15y\r')).toEqual({ line: 'y', rest: '' });
    expect(r.feed('abc\x03rest')).toEqual({ line: null, rest: 'rest' });
    expect(r.feed('x'.repeat(40) + '\r')).toEqual({ line: 'x'.repeat(16), rest: '' });
  });
});
