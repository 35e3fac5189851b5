// The kernel handed to extlinux, on a real kernel: Debian's pinned arm64 kernel (a raw Image with an EFI stub),
// wrapped in an EFI zboot container laid out as the kernel's zboot-header.S does, as Alpine's aarch64 linux-lts
// ships it. U-Boot's booti must get the raw Image back, byte for byte.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../images/build.js';
import { bootableKernel, isArm64Image, zbootHeader } from '../../../images/rootfs/kernel-image.js';
import { loadLock, unpackInput } from '../../../images/lib/inputs.js';
import { zbootImage } from '../../lib/zboot.js';

const repo = repoRoot();
let image: Buffer;
/** The Image gzipped once (level 1: the test's time goes to compressing otherwise), and the zboot around it. */
let gz: Buffer;
let zboot: Buffer;

beforeAll(async () => {
  const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
  const dir = await unpackInput(lock, 'kernel-arm64', join(repo, '.cache', 'images'), () => undefined);
  image = await readFile(join(dir, 'boot', 'vmlinuz-6.1.0-50-arm64'));
  gz = gzipSync(image, { level: 1 });
  zboot = zbootImage(image, { payload: gz });
}, 600_000);

describe("the kernel U-Boot's booti gets", () => {
  it("is Debian's raw arm64 Image when given an EFI zboot image around it", () => {
    expect(isArm64Image(image)).toBe(true);
    expect(zbootHeader(zboot)).toMatchObject({ offset: 4096, compression: 'gzip' });
    // booti refuses what Alpine ships: it is a PE file, not an Image.
    expect(isArm64Image(zboot)).toBe(false);
    const got = bootableKernel(zboot, 'aarch64', 'u-boot', 'vmlinuz-lts');
    expect(got.format).toBe('arm64 Image unpacked from an EFI zboot image');
    expect(got.data.equals(image)).toBe(true);
  });

  it('keeps a raw Image as it is, and unpacks a gzipped one (Image.gz)', () => {
    expect(bootableKernel(image, 'aarch64', 'u-boot', 'Image').data).toBe(image);
    expect(bootableKernel(gz, 'aarch64', 'u-boot', 'Image.gz').data.equals(image)).toBe(true);
  });

  it('leaves a gzipped Image as shipped where QEMU loads it itself, but unpacks a zboot image for it too', () => {
    expect(bootableKernel(gz, 'aarch64', 'qemu', 'vmlinuz').data).toBe(gz);
    expect(bootableKernel(zboot, 'aarch64', 'qemu', 'vmlinuz').data.equals(image)).toBe(true);
  });

  it('refuses a zboot image compressed otherwise, cut short, or holding no Image, naming the file', () => {
    expect(() =>
      bootableKernel(zbootImage(image, { compression: 'zstd', payload: gz }), 'aarch64', 'u-boot', 'k'),
    ).toThrow('k: an EFI zboot image compressed with zstd; only gzip is unpacked');
    expect(() => bootableKernel(zboot.subarray(0, 1_000_000), 'aarch64', 'u-boot', 'k')).toThrow(
      /^k: EFI zboot payload \(offset 4096, \d+ bytes\) lies outside the 1000000-byte file$/,
    );
    const notImage = zbootImage(Buffer.alloc(0), { payload: gzipSync(Buffer.from('not a kernel')) });
    expect(() => bootableKernel(notImage, 'aarch64', 'u-boot', 'k')).toThrow(
      'k: the EFI zboot payload is not an arm64 Image (no ARM\\x64 at byte 56)',
    );
    expect(() => bootableKernel(Buffer.from('kernel stand-in\n'), 'aarch64', 'u-boot', 'k')).toThrow(
      /^k: neither an arm64 Image/,
    );
    expect(() => bootableKernel(image, 'armv7', 'u-boot', 'k')).toThrow(/^k: not a 32-bit zImage/);
  });
});
