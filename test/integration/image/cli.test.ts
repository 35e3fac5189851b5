import { describe, expect, it } from 'vitest';
import { main, type CommandIo } from '../../../images/cli/skyminer-image.js';

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
    expect(io.stdout).toContain('  build     build a card image for a board profile');
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

  it('asks for a bootloader no reachable package has, in one line, before building anything', async () => {
    const io = capture();
    expect(await main(['build', 'orangepi-prime'], io)).toBe(1);
    expect(io.stderr).toBe(
      "skyminer-image build: orangepi-prime: no reachable package has this board's bootloader; build u-boot-sunxi-with-spl.bin from U-Boot's orangepi_prime_defconfig and pass it with --bootloader u-boot-sunxi-with-spl.bin\n",
    );
  });

  it('refuses a plain password given as --password-hash', async () => {
    const io = capture();
    expect(await main(['build', 'qemu-virt-arm64', '--password-hash', 'hunter2'], io)).toBe(1);
    expect(io.stderr).toMatch(/^skyminer-image build: --password-hash: expected a crypt\(3\) hash/);
  });

  it('says what an Alpine board root needs while the package installer is not in the tree', async () => {
    const io = capture();
    expect(await main(['build', 'pine64-sopine', '--no-compress'], io)).toBe(1);
    // Progress lines come first; the failure is the last line. Once images/apk/ is merged the message names the
    // mirror and packages the Alpine stage needs instead.
    const last = io.stderr.trim().split('\n').pop();
    expect(last).toMatch(
      /^skyminer-image build: pine64-sopine: (an Alpine root needs the package installer \(images\/apk\/installer\.ts|the Alpine root stage is not wired to images\/apk\/ yet; it needs an Alpine mirror)/,
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
