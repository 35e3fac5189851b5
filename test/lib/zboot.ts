// Builds an EFI zboot image the way the kernel's drivers/firmware/efi/libstub/zboot-header.S lays one out, around a
// given arm64 Image: what Alpine's aarch64 linux-lts ships as boot/vmlinuz-lts (CONFIG_EFI_ZBOOT=y).
import { gzipSync } from 'node:zlib';

/** "MZ", "zimg", payload offset and size, two reserved words, the compression type, then the PE headers' place. */
export function zbootImage(image: Buffer, o: { compression?: string; payload?: Buffer } = {}): Buffer {
  const payload = o.payload ?? gzipSync(image, { level: 9 });
  // The decompressor's code sits between the headers and the payload in a real image; 4 KiB stands in for it.
  const offset = 4096;
  const head = Buffer.alloc(offset);
  head.write('MZ', 0, 'latin1');
  head.write('zimg', 4, 'latin1');
  head.writeUInt32LE(offset, 8);
  // For gzip the payload ends with its own le32 of the unpacked size (ZBOOT_SIZE_LEN is 0): size is all of it.
  head.writeUInt32LE(payload.length, 12);
  head.write(`${o.compression ?? 'gzip'}\0`, 24, 'latin1');
  // LINUX_PE_MAGIC at 0x38 and the PE header's offset at 0x3c, as in any arm64 EFI stub image.
  head.writeUInt32LE(0x818223cd, 0x38);
  head.writeUInt32LE(0x40, 0x3c);
  head.write('PE\0\0', 0x40, 'latin1');
  // The rest of a PE file (sections, the .sbat, padding to 4 KiB) follows the payload.
  return Buffer.concat([head, payload, Buffer.alloc(4096 - (payload.length % 4096))]);
}

/** The smallest arm64 Image header: its magic at byte 56, then a body to tell images apart. */
export function fakeArm64Image(body: string): Buffer {
  const h = Buffer.alloc(64);
  h.write('ARM\x64', 56, 'latin1');
  return Buffer.concat([h, Buffer.from(body)]);
}
