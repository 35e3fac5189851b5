import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deriveAttachKey, withAttachKey } from '../../../firmware/auth/attach-key.js';
import { sshAttach } from '../../../firmware/control/sources.js';

const run = promisify(execFile);
const secret = Buffer.alloc(32, 0x5a);

async function keyFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'attach-key-'));
  const path = join(dir, 'id');
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

describe('attach key', () => {
  it('is a private key OpenSSH reads, whose public half is the line the boards install', async () => {
    const key = deriveAttachKey(secret);
    const { stdout } = await run('ssh-keygen', ['-y', '-f', await keyFile(key.privateText)]);
    expect(stdout.trim().split(' ').slice(0, 2)).toEqual(key.publicLine.split(' ').slice(0, 2));
    expect(key.publicLine).toMatch(
      /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} skyminer-manager$/,
    );
  });

  it('signs with the seed that matches its public half (an ssh signature the public line verifies)', async () => {
    const key = deriveAttachKey(secret);
    const id = await keyFile(key.privateText);
    const dir = join(id, '..');
    await writeFile(join(dir, 'msg'), 'attach board 3\n');
    await run('ssh-keygen', ['-Y', 'sign', '-f', id, '-n', 'skyminer', join(dir, 'msg')]);
    await writeFile(join(dir, 'allowed'), `manager ${key.publicLine}\n`);
    const verify = run('sh', [
      '-c',
      `ssh-keygen -Y verify -f ${dir}/allowed -I manager -n skyminer -s ${dir}/msg.sig < ${dir}/msg`,
    ]);
    await expect(verify).resolves.toMatchObject({
      stdout: expect.stringContaining('Good "skyminer" signature'),
    });
  });

  it('is the same for the same box secret and another for another box', () => {
    expect(deriveAttachKey(secret)).toEqual(deriveAttachKey(Buffer.from(secret)));
    expect(deriveAttachKey(Buffer.alloc(32, 1)).publicLine).not.toBe(deriveAttachKey(secret).publicLine);
  });

  it("replaces an earlier box's manager line and keeps every other key", () => {
    const old = deriveAttachKey(Buffer.alloc(32, 1)).publicLine;
    const now = deriveAttachKey(secret).publicLine;
    expect(withAttachKey(`ssh-rsa AAAAowner owner\n${old}\n`, now)).toBe(`ssh-rsa AAAAowner owner\n${now}\n`);
    expect(withAttachKey('', now)).toBe(`${now}\n`);
  });

  it('makes attach use the key and learn the boards host keys on first contact', () => {
    const attach = sshAttach((n) => `192.168.0.${n + 1}`, {
      identity: '/var/lib/skyminer/attach_ed25519',
      knownHosts: '/var/lib/skyminer/known_hosts',
    });
    expect(attach(3).argv).toEqual([
      'ssh',
      '-o',
      'ConnectTimeout=5',
      '-i',
      '/var/lib/skyminer/attach_ed25519',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'UserKnownHostsFile=/var/lib/skyminer/known_hosts',
      'root@192.168.0.4',
    ]);
  });
});
