import { describe, expect, it } from 'vitest';
import { planDisk } from '../../../images/layout/disk.js';
import { chs, decodeMbr, encodeMbr } from '../../../images/layout/mbr.js';

describe('MBR partition table', () => {
  it('writes the disk signature, the boot and first root entries and 55 AA byte for byte', () => {
    const plan = planDisk({
      firstPartitionMib: 4,
      bootBytes: 64 << 20,
      rootBytes: 90 << 20,
      slotMib: 100,
      dataBytes: 16 << 20,
      signature: 0x79ebebc9,
    });
    const b = encodeMbr(plan.mbr);
    expect(b.length).toBe(512);
    expect(b.subarray(0, 440).every((x) => x === 0)).toBe(true);
    expect(b.subarray(440, 446).toString('hex')).toBe('c9ebeb790000');
    // boot: bootable, CHS (head 130, sector 3, cylinder 0) .. (170, 34, 8), FAT32 LBA, LBA 8192, 131072 sectors
    expect(b.subarray(446, 462).toString('hex')).toBe(
      '80' + '820300' + '0c' + 'aa2208' + '00200000' + '00000200',
    );
    // root: Linux at LBA 139264 (68 MiB), 204800 sectors (100 MiB)
    expect(b.subarray(462, 478).toString('hex')).toBe(
      '00' + 'aa2308' + '83' + '6a1515' + '00200200' + '00200300',
    );
    expect(b.subarray(510).toString('hex')).toBe('55aa');
  });

  it('gives both root slots the same size and puts the data partition last', () => {
    const plan = planDisk({
      firstPartitionMib: 4,
      bootBytes: 64 << 20,
      rootBytes: 90 << 20,
      slotMib: 100,
      dataBytes: 16 << 20,
      signature: 1,
    });
    const [, a, b, data] = decodeMbr(encodeMbr(plan.mbr)).partitions;
    expect(a).toMatchObject({ start: 68 * 2048, sectors: 100 * 2048, type: 0x83 });
    expect(b).toMatchObject({ start: 168 * 2048, sectors: 100 * 2048, type: 0x83 });
    expect(data).toMatchObject({ start: 268 * 2048, sectors: 16 * 2048, type: 0x83 });
    expect(plan.totalBytes).toBe(284 << 20);
  });

  it('refuses a root filesystem larger than a slot, naming the setting', () => {
    expect(() =>
      planDisk({
        firstPartitionMib: 4,
        bootBytes: 64 << 20,
        rootBytes: 101 << 20,
        slotMib: 100,
        dataBytes: 16 << 20,
        signature: 1,
      }),
    ).toThrow('the root filesystem (101 MiB) does not fit a root slot (layout.slot_mib = 100)');
  });

  it('uses the FE FF FF marker past cylinder 1023', () => {
    expect(chs(63)).toEqual([1, 1, 0]);
    expect(chs(1024 * 255 * 63)).toEqual([0xfe, 0xff, 0xff]);
  });

  it('reads back what it wrote', () => {
    const mbr = {
      signature: 0x12345678,
      partitions: [
        { start: 2048, sectors: 4096, type: 0x0c, bootable: true },
        { start: 6144, sectors: 8192, type: 0x83, bootable: false },
      ],
    };
    expect(decodeMbr(encodeMbr(mbr))).toEqual(mbr);
  });

  it('refuses a sector without the 55 AA signature', () => {
    expect(() => decodeMbr(Buffer.alloc(512))).toThrow(
      'no MBR partition table (sector 0 does not end in 55 AA)',
    );
  });

  it('refuses overlapping partitions', () => {
    const b = encodeMbr({
      signature: 1,
      partitions: [
        { start: 2048, sectors: 4096, type: 0x0c, bootable: true },
        { start: 4000, sectors: 100, type: 0x83, bootable: false },
      ],
    });
    expect(() => decodeMbr(b)).toThrow('MBR partitions overlap');
  });
});
