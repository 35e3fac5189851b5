// The kernel handed to extlinux, in the format the machine's loader boots. U-Boot's `booti` takes only a raw arm64
// `Image`; Alpine's aarch64 linux-lts (6.6, CONFIG_EFI_ZBOOT=y) ships an EFI zboot image instead: a PE/COFF
// program for UEFI whose payload is the compressed Image. `bootz` takes a 32-bit zImage. QEMU's -kernel takes all.
import { gunzipSync } from 'node:zlib';

export class KernelFormatError extends Error {
  override readonly name = 'KernelFormatError';
}

/** Who loads the kernel: U-Boot (booti/bootz through extlinux) or QEMU itself (-kernel). */
export type KernelLoader = 'u-boot' | 'qemu';

/** arm64 Image header: "ARM\x64" at byte 56 (Documentation/arch/arm64/booting.rst). */
export const ARM64_IMAGE_MAGIC = Buffer.from('ARM\x64', 'latin1');
/** 32-bit zImage: 0x016f2818 at byte 0x24. */
const ZIMAGE_MAGIC = 0x016f2818;

export const isArm64Image = (b: Buffer) => b.length >= 64 && b.subarray(56, 60).equals(ARM64_IMAGE_MAGIC);
const isZImage = (b: Buffer) => b.length >= 0x28 && b.readUInt32LE(0x24) === ZIMAGE_MAGIC;
const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * An EFI zboot image, as drivers/firmware/efi/libstub/zboot-header.S lays it out: "MZ" at 0, "zimg" at 4, the
 * payload's offset and size (le32) at 8 and 12, two reserved words, and the compression type as a NUL-terminated
 * string at 24 ("gzip", "zstd", ...). Returns undefined for anything else.
 */
export function zbootHeader(b: Buffer): { offset: number; size: number; compression: string } | undefined {
  if (b.length < 64 || b.toString('latin1', 0, 2) !== 'MZ' || b.toString('latin1', 4, 8) !== 'zimg')
    return undefined;
  const end = b.indexOf(0, 24);
  return {
    offset: b.readUInt32LE(8),
    size: b.readUInt32LE(12),
    compression: b.toString('latin1', 24, end < 0 || end > 56 ? 56 : end),
  };
}

function gunzip(data: Buffer, what: string): Buffer {
  try {
    return gunzipSync(data);
  } catch (err) {
    throw new KernelFormatError(`${what}: the gzip payload does not unpack (${(err as Error).message})`);
  }
}

/**
 * The kernel bytes to put on the boot partition for this loader, and what was done to them. For U-Boot on arm64 a
 * zboot image or a gzipped Image is unpacked to the raw Image (checked by its magic); a raw Image stays. For U-Boot
 * on armv7 it must be a zImage. For QEMU only a zboot image is unpacked. Anything else stops the build with one line
 * naming the file and what it is.
 */
export function bootableKernel(
  data: Buffer,
  arch: 'aarch64' | 'armv7',
  loader: KernelLoader,
  name: string,
): { data: Buffer; format: string } {
  // QEMU loads a gzipped Image or a zImage itself; an EFI zboot image is unpacked for it too (Debian 12's QEMU 7.2
  // predates its zboot support).
  if (loader === 'qemu' && (arch === 'armv7' || !zbootHeader(data)))
    return { data, format: 'as shipped (QEMU loads it)' };
  if (arch === 'armv7') {
    if (isZImage(data)) return { data, format: 'zImage' };
    throw new KernelFormatError(
      `${name}: not a 32-bit zImage (no 0x016f2818 at byte 0x24), which bootz needs`,
    );
  }
  if (isArm64Image(data)) return { data, format: 'arm64 Image' };
  const zboot = zbootHeader(data);
  if (zboot) {
    if (zboot.compression !== 'gzip')
      throw new KernelFormatError(
        `${name}: an EFI zboot image compressed with ${zboot.compression || 'an unnamed method'}; only gzip is unpacked`,
      );
    if (zboot.offset < 64 || zboot.offset + zboot.size > data.length || zboot.size === 0)
      throw new KernelFormatError(
        `${name}: EFI zboot payload (offset ${zboot.offset}, ${zboot.size} bytes) lies outside the ${data.length}-byte file`,
      );
    const image = gunzip(data.subarray(zboot.offset, zboot.offset + zboot.size), name);
    if (!isArm64Image(image))
      throw new KernelFormatError(
        `${name}: the EFI zboot payload is not an arm64 Image (no ARM\\x64 at byte 56)`,
      );
    return { data: image, format: 'arm64 Image unpacked from an EFI zboot image' };
  }
  if (isGzip(data)) {
    const image = gunzip(data, name);
    if (!isArm64Image(image))
      throw new KernelFormatError(`${name}: gzip file that is not an arm64 Image (no ARM\\x64 at byte 56)`);
    return { data: image, format: 'arm64 Image unpacked from gzip' };
  }
  throw new KernelFormatError(
    `${name}: neither an arm64 Image (ARM\\x64 at byte 56) nor an EFI zboot or gzip image holding one, which booti needs`,
  );
}
