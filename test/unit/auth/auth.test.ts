import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveAttachKey } from '../../../firmware/auth/attach-key.js';
import { enrolBoard, loadBoxSecret } from '../../../firmware/auth/enrol.js';
import { openEnvelope, seal } from '../../../firmware/auth/envelope.js';
import { CommandGuard, NonceMemory, outsideWindow } from '../../../firmware/auth/freshness.js';
import { BoxKeys, deriveBoardKey, formatKey, KeyError, parseKey } from '../../../firmware/auth/keys.js';

const secret = Buffer.alloc(32, 0x5a);

describe('board keys', () => {
  it('derives each board key by HKDF-SHA256 from the box secret and the slot', () => {
    // RFC 5869 by hand: extract PRK = HMAC(salt, secret), expand T(1) = HMAC(PRK, info || 0x01); 32 bytes = T(1).
    const prk = createHmac('sha256', 'skyminer board key v1').update(secret).digest();
    const t1 = createHmac('sha256', prk)
      .update('board:3')
      .update(Buffer.from([1]))
      .digest();
    expect(deriveBoardKey(secret, 3)).toEqual(t1);
    expect(deriveBoardKey(secret, 3)).not.toEqual(deriveBoardKey(secret, 4));
    expect(new BoxKeys(secret, 8).keyFor(3)).toEqual(deriveBoardKey(secret, 3));
    expect(new BoxKeys(secret, 8).keyFor(9)).toBeUndefined();
  });

  it('refuses a key file that is not 64 hex digits, naming the file', () => {
    expect(() => parseKey('abc', '/etc/skyminer/board.key')).toThrow(
      '/etc/skyminer/board.key: expected 64 hex digits, got 3',
    );
    expect(() => parseKey('zz', 'k')).toThrow(KeyError);
    expect(parseKey(formatKey(secret), 'k')).toEqual(secret);
  });
});

describe('envelope', () => {
  const key = deriveBoardKey(secret, 5);
  const keyFor = (b: number) => (b === 5 ? key : undefined);
  const body = Buffer.from('{"type":"heartbeat"}');

  it('lays out version, board, HMAC tag and body', () => {
    const d = seal(key, 5, body);
    expect(d[0]).toBe(1);
    expect(d[1]).toBe(5);
    expect(d.length).toBe(2 + 32 + body.length);
    expect(d.subarray(34)).toEqual(body);
    expect(openEnvelope(d, keyFor)).toEqual({ ok: true, board: 5, body });
  });

  it('refuses a changed body, a changed board byte, a wrong key and a short datagram', () => {
    const d = seal(key, 5, body);
    const flipped = Buffer.from(d);
    flipped[flipped.length - 2]! ^= 1;
    expect(openEnvelope(flipped, keyFor)).toEqual({ ok: false, error: 'bad tag for board 5' });
    const forged = seal(Buffer.alloc(32, 7), 5, body);
    expect(openEnvelope(forged, keyFor)).toEqual({ ok: false, error: 'bad tag for board 5' });
    const moved = Buffer.from(d);
    moved[1] = 6;
    expect(openEnvelope(moved, keyFor)).toEqual({ ok: false, error: 'no key for board 6' });
    expect(openEnvelope(d.subarray(0, 20), keyFor)).toEqual({
      ok: false,
      error: 'datagram of 20 bytes is too short',
    });
  });
});

describe('freshness', () => {
  it('refuses a heartbeat stamped outside the window, either way', () => {
    expect(outsideWindow(100_000, 100_000 + 30_000, 30_000)).toBeUndefined();
    expect(outsideWindow(100_000, 100_000 + 31_000, 30_000)).toBe("stamped 31 s behind the manager's clock");
    expect(outsideWindow(200_000, 100_000, 30_000)).toBe("stamped 100 s ahead of the manager's clock");
  });

  it('accepts a command once, in its own boot only', () => {
    const guard = new CommandGuard('aaaaaaaa');
    expect(guard.accept('aaaaaaaa', 10)).toBeUndefined();
    expect(guard.accept('aaaaaaaa', 10)).toMatch(/not after 10/);
    expect(guard.accept('aaaaaaaa', 9)).toMatch(/not after 10/);
    expect(guard.accept('bbbbbbbb', 11)).toMatch(/for boot bbbbbbbb/);
    expect(guard.accept('aaaaaaaa', 11)).toBeUndefined();
  });

  it('lets a probe nonce through once, remembering only the latest few', () => {
    const memory = new NonceMemory(3);
    expect(memory.firstTime('n1')).toBe(true);
    expect(memory.firstTime('n1')).toBe(false);
    for (const n of ['n2', 'n3']) expect(memory.firstTime(n)).toBe(true);
    expect(memory.firstTime('n1')).toBe(false);
    expect(memory.firstTime('n4')).toBe(true); // n1, the oldest, is forgotten
    expect(memory.firstTime('n3')).toBe(false);
    expect(memory.firstTime('n1')).toBe(true);
  });
});

describe('first-boot enrolment', () => {
  async function box(): Promise<{ boardKey: string; boxSecret: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'enrol-'));
    const paths = { boardKey: join(dir, 'board.key'), boxSecret: join(dir, 'box.key') };
    await writeFile(paths.boxSecret, formatKey(secret), { mode: 0o600 });
    return paths;
  }

  it('derives a worker key from the baked-in box secret, writes it private, and erases the secret', async () => {
    const paths = await box();
    const first = await enrolBoard(4, paths);
    expect(first).toEqual({
      key: deriveBoardKey(secret, 4),
      enrolled: true,
      secretErased: true,
      attachKeyInstalled: false,
    });
    expect(await readFile(paths.boardKey, 'utf8')).toBe(formatKey(deriveBoardKey(secret, 4)));
    expect((await stat(paths.boardKey)).mode & 0o777).toBe(0o600);
    await expect(stat(paths.boxSecret)).rejects.toMatchObject({ code: 'ENOENT' });
    // The next boot reads the enrolled key, with no secret left to enrol from.
    expect(await enrolBoard(4, paths)).toEqual({
      key: deriveBoardKey(secret, 4),
      enrolled: false,
      secretErased: false,
      attachKeyInstalled: false,
    });
  });

  it("adds the manager's attach key to a worker's authorized_keys, keeping the owner's own keys", async () => {
    const paths = await box();
    const ssh = join(paths.boardKey, '..', 'root-ssh');
    const authorizedKeys = join(ssh, 'authorized_keys');
    await mkdir(ssh, { mode: 0o700 });
    await writeFile(authorizedKeys, 'ssh-ed25519 AAAAownerkey owner@laptop\n');
    expect((await enrolBoard(3, { ...paths, authorizedKeys })).attachKeyInstalled).toBe(true);
    expect(await readFile(authorizedKeys, 'utf8')).toBe(
      `ssh-ed25519 AAAAownerkey owner@laptop\n${deriveAttachKey(secret).publicLine}\n`,
    );
    expect((await stat(authorizedKeys)).mode & 0o777).toBe(0o600);
  });

  it('keeps supervising when the attach key cannot be installed, and installs it at the next start', async () => {
    const paths = await box();
    const ssh = join(paths.boardKey, '..', 'ssh');
    await writeFile(ssh, 'a file where the .ssh directory should be');
    const authorizedKeys = join(ssh, 'authorized_keys');
    const first = await enrolBoard(5, { ...paths, authorizedKeys });
    expect(first).toMatchObject({ key: deriveBoardKey(secret, 5), enrolled: true, secretErased: false });
    expect(first.attachKeyError).toMatch(/ssh\/authorized_keys: .*(EEXIST|ENOTDIR)/);
    expect(await loadBoxSecret(paths.boxSecret)).toEqual(secret);
    await rm(ssh);
    const second = await enrolBoard(5, { ...paths, authorizedKeys });
    expect(second).toEqual({
      key: deriveBoardKey(secret, 5),
      enrolled: false,
      secretErased: true,
      attachKeyInstalled: true,
    });
    expect(await readFile(authorizedKeys, 'utf8')).toBe(`${deriveAttachKey(secret).publicLine}\n`);
    await expect(stat(paths.boxSecret)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives the manager no attach key of its own to trust, and leaves a missing .ssh made private', async () => {
    const paths = await box();
    const authorizedKeys = join(paths.boardKey, '..', 'ssh', 'authorized_keys');
    expect((await enrolBoard(1, { ...paths, authorizedKeys })).attachKeyInstalled).toBe(false);
    await expect(stat(authorizedKeys)).rejects.toMatchObject({ code: 'ENOENT' });
    const worker = await box();
    const workerKeys = join(worker.boardKey, '..', 'ssh', 'authorized_keys');
    await enrolBoard(2, { ...worker, authorizedKeys: workerKeys });
    expect((await stat(join(workerKeys, '..'))).mode & 0o777).toBe(0o700);
  });

  it('keeps the box secret on the manager, which derives every board key from it', async () => {
    const paths = await box();
    expect((await enrolBoard(1, paths)).secretErased).toBe(false);
    expect(await loadBoxSecret(paths.boxSecret)).toEqual(secret);
  });

  it('refuses to start without a key or a secret, in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'enrol-'));
    await expect(
      enrolBoard(2, { boardKey: join(dir, 'board.key'), boxSecret: join(dir, 'box.key') }),
    ).rejects.toThrow(/board\.key: no board key and no box secret at .*box\.key to enrol from/);
  });
});
