import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { CommandRunner } from '../../drivers/disks/command-runner.js';
import type { StatFs } from '../../drivers/disks/usage.js';
import { EmulatedBoard as EmulatedKernel } from '../../drivers/proc/emulated.js';
import type { InventorySource } from '../telemetry/inventory.js';
import { SimDiskReports } from './sim-disks.js';

/** The report a disk answers with when nothing says otherwise: a healthy SATA disk, recorded from smartctl 7. */
export const HEALTHY_DISK_REPORT = fileURLToPath(new URL('./smart/healthy-ata.json', import.meta.url));

/** Boards 1 to 4 carry a SATA disk on the shipped box. */
export const SATA_BOARDS = 4;

const GB = 1e9;

/** The kernel release the emulated boards report. */
const EMULATED_KERNEL = '6.6.58-0-lts';

/** A locally administered MAC per board. */
function emulatedMac(board: number): string {
  return `02:5b:00:00:00:${board.toString(16).padStart(2, '0')}`;
}

/**
 * The parts of every emulated board below the firmware: its `/proc` and `/sys` (the kernel view the real
 * readers parse), its SATA disks, the smartctl answers of those disks, and the system commands the agent runs
 * on them (mount, umount, fsck), which act on the emulated mount table.
 */
export class SimBoardHardware {
  readonly kernels = new Map<number, EmulatedKernel>();

  private constructor(readonly reports: SimDiskReports) {}

  static async create(boards: number): Promise<SimBoardHardware> {
    const hw = new SimBoardHardware(await SimDiskReports.create());
    for (let board = 1; board <= boards; board++)
      hw.kernels.set(board, new EmulatedKernel({ board, seed: board }));
    return hw;
  }

  kernel(board: number): EmulatedKernel {
    const k = this.kernels.get(board);
    if (!k) throw new Error(`no board ${board}`);
    return k;
  }

  /** Plugs a SATA disk in; its model, serial and size come from the smartctl report it answers with. */
  async addDisk(board: number, disk: string, reportFile: string): Promise<void> {
    await this.reports.setReport(board, disk, reportFile);
    const identity = await diskIdentity(reportFile);
    this.kernel(board).addDisk({
      name: disk,
      model: identity.model,
      serial: identity.serial,
      sizeBytes: identity.sizeBytes,
      partitions: [identity.sizeBytes - 2 ** 20],
    });
  }

  /** From now on the disk answers smartctl with another report (its health changed). */
  setSmart(board: number, disk: string, reportFile: string): Promise<void> {
    return this.reports.setReport(board, disk, reportFile);
  }

  async removeDisk(board: number, disk: string): Promise<void> {
    const kernel = this.kernel(board);
    // A pulled disk's mounts go with it, as the kernel's lazy unmount of a vanished device leaves them.
    kernel.umount(`/var/cache/skywire`);
    kernel.removeDisk(disk);
    await this.reports.removeReport(board, disk);
  }

  /** smartctl to the stand-in; mount, umount and fsck act on the board's emulated mount table. */
  runner(board: number): CommandRunner {
    const kernel = this.kernel(board);
    const system: CommandRunner = (file, args) => {
      if (file === 'mount') kernel.mount(args.at(-2)!, args.at(-1)!);
      if (file === 'umount') kernel.umount(args.at(-1)!);
      return Promise.resolve({ exitCode: 0, stdout: '', stderr: '' });
    };
    return this.reports.runnerFor(board, system);
  }

  /** Mount points live in the emulated mount table only: nothing to create. */
  ensureDir(_board: number, _path: string): Promise<void> {
    return Promise.resolve();
  }

  /** What systeminformation would answer on the emulated board: its model, serial, MAC, OS and kernel. */
  inventory(board: number): InventorySource {
    const kernel = this.kernel(board);
    const mac = emulatedMac(board);
    return {
      system: () =>
        Promise.resolve({
          manufacturer: 'Skyminer',
          model: 'compute board (emulated)',
          serial: `EMU${board}`,
        }),
      cpu: () => Promise.resolve({ manufacturer: 'ARM', brand: 'Cortex-A53', cores: kernel.cores }),
      mem: () => Promise.resolve({ total: kernel.memTotalBytes }),
      osInfo: () => Promise.resolve({ distro: 'Alpine Linux', release: '3.20', kernel: EMULATED_KERNEL }),
      networkInterfaces: () =>
        Promise.resolve([{ iface: 'eth0', mac, internal: false, virtual: false, type: 'wired' }]),
    };
  }

  /** A filesystem a third full, growing slowly with the board's uptime, as a content cache does. */
  statfs(board: number): StatFs {
    return () => {
      const blocks = 1_000_000;
      const used = Math.min(
        blocks - 1,
        Math.round(blocks * (0.3 + 0.02 * board + ((performance.now() / 3.6e9) % 0.2))),
      );
      return Promise.resolve({ bsize: 4096, blocks, bfree: blocks - used, bavail: blocks - used });
    };
  }

  dispose(): Promise<void> {
    return this.reports.dispose();
  }
}

async function diskIdentity(
  reportFile: string,
): Promise<{ model: string; serial: string; sizeBytes: number }> {
  try {
    const doc = JSON.parse(await readFile(reportFile, 'utf8')) as {
      model_name?: unknown;
      serial_number?: unknown;
      user_capacity?: { bytes?: unknown };
    };
    return {
      model: typeof doc.model_name === 'string' ? doc.model_name : 'Emulated SATA disk',
      serial: typeof doc.serial_number === 'string' ? doc.serial_number : 'EMU0000',
      sizeBytes: typeof doc.user_capacity?.bytes === 'number' ? doc.user_capacity.bytes : 500 * GB,
    };
  } catch {
    // A report that is not JSON still makes a disk: smartctl's reader will judge the report itself.
    return { model: 'Emulated SATA disk', serial: 'EMU0000', sizeBytes: 500 * GB };
  }
}
