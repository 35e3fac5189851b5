import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CommandIo } from '../../../images/cli/skyminer-image.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

function capture(): CommandIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
  };
  return io;
}

describe('skyminer-image command', () => {
  it('lists its commands and their usage', async () => {
    const io = capture();
    expect(await main(['help'], io)).toBe(0);
    expect(io.stdout).toContain('  build          build a card image for a board profile');
    expect(io.stdout).toContain('usage: skyminer-image inspect IMAGE');
  });

  it('names the profiles when asked for one that does not exist', async () => {
    const io = capture();
    expect(await main(['build', 'orangepi-zero9', '--no-compress'], io)).toBe(1);
    expect(io.stderr).toMatch(
      /^skyminer-image build: no board profile "orangepi-zero9"; profiles: .*pine64-sopine/,
    );
    expect(io.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a board no image of which would boot, in one line, before building anything', async () => {
    const io = capture();
    expect(await main(['build', 'orangepi-prime'], io)).toBe(1);
    expect(io.stderr).toBe(
      "skyminer-image build: orangepi-prime: not buildable: Alpine v3.20's aarch64 kernel (linux-lts) lacks the H5's clock driver (CONFIG_SUN8I_H3_CCU is off), so it cannot boot the Orange Pi Prime\n",
    );
  });

  it('explains the release check and refuses an option it does not know, before building anything', async () => {
    const help = capture();
    await main(['--help'], help);
    expect(help.stdout).toContain(
      "  release-check  build an Alpine image for QEMU virt with Alpine's kernel",
    );
    const io = capture();
    expect(await main(['release-check', '--mirror', 'x'], io)).toBe(2);
    expect(io.stderr).toMatch(/^skyminer-image release-check: Unknown option '--mirror'/);
  });

  it('refuses a plain password given as --password-hash', async () => {
    const io = capture();
    expect(await main(['build', 'qemu-virt-arm64', '--password-hash', 'hunter2'], io)).toBe(1);
    expect(io.stderr).toMatch(/^skyminer-image build: --password-hash: expected a crypt\(3\) hash/);
  });

  it('refuses a box secret file that is missing or not 64 hex digits, in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'box-secret-'));
    const missing = join(dir, 'nope');
    let io = capture();
    expect(await main(['build', 'qemu-virt-arm64', '--box-secret', missing], io)).toBe(1);
    expect(io.stderr).toBe(`skyminer-image build: --box-secret: cannot read ${missing} (ENOENT)\n`);
    const short = join(dir, 'short');
    await writeFile(short, 'abcd\n');
    io = capture();
    expect(await main(['build', 'qemu-virt-arm64', '--box-secret', short], io)).toBe(1);
    expect(io.stderr).toMatch(
      new RegExp(`^skyminer-image build: --box-secret: ${short} must hold 64 hex digits .*\n$`),
    );
  });

  it('says in one line that an Alpine root needs a reachable mirror or --alpine-repository', async () => {
    const io = capture();
    // A loopback port just closed refuses at once: the same as any mirror out of reach, without a network.
    const port = await closedPort();
    const mirror = `http://127.0.0.1:${port}/alpine/v3.20/main`;
    expect(await main(['build', 'pine64-sopine', '--no-compress', '--alpine-repository', mirror], io)).toBe(
      1,
    );
    // Progress lines come first; the failure is the last line.
    expect(io.stderr.trim().split('\n').pop()).toMatch(
      new RegExp(
        `^skyminer-image build: pine64-sopine: cannot reach the Alpine mirror http://127\\.0\\.0\\.1:${port}/alpine/v3\\.20/main \\(.*ECONNREFUSED.*\\); an Alpine root needs network access to an Alpine mirror, or a local copy of one given with --alpine-repository DIR$`,
      ),
    );
  }, 120_000);

  it('names a local Alpine repository that has no index for the architecture', async () => {
    const io = capture();
    const empty = await mkdtemp(join(tmpdir(), 'image-alpine-empty-'));
    expect(await main(['build', 'pine64-sopine', '--no-compress', '--alpine-repository', empty], io)).toBe(1);
    expect(io.stderr.trim().split('\n').pop()).toBe(
      `skyminer-image build: pine64-sopine: the Alpine repository ${empty} has no aarch64/APKINDEX.tar.gz (ENOENT); an Alpine root needs network access to an Alpine mirror, or a local copy of one given with --alpine-repository DIR`,
    );
  }, 120_000);

  it('gives a usage error for inspect without an image and a one-line error for a file that is not one', async () => {
    const io = capture();
    expect(await main(['inspect'], io)).toBe(2);
    expect(await main(['inspect', 'package.json'], io)).toBe(1);
    expect(io.stderr).toContain(
      'skyminer-image inspect: package.json: no MBR partition table (sector 0 does not end in 55 AA)\n',
    );
  });
});
