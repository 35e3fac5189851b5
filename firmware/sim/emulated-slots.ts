// A simulated board's two root slots and its U-Boot environment, as files: the install code writes real bundles into
// them, and each boot runs the boot script's choice (update/decision.ts bootChoice, the logic of the real script)
// before the board's software starts, so a try, a commit and a fallback happen as on a card.
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/files.js';
import { bootChoice, type Slot } from '../update/decision.js';
import { readRecord, type SlotDevices } from '../update/install.js';
import { encodeEnv, FileEnvStore, readEnv, updateEnv } from '../update/uboot-env.js';

const ENV_BYTES = 0x4000;

/**
 * How a board's next trial boot goes wrong (the simulator's update faults); none: it boots and runs. `unhealthy`:
 * its agent never starts; `unreachable`: its agent runs but nothing it sends reaches the manager (a new slot whose
 * network or key is broken).
 */
export type TrialFault = 'no-boot' | 'unhealthy' | 'unreachable';

export class EmulatedSlots {
  readonly env: FileEnvStore;
  readonly recordFile: string;
  private readonly versionsFile: string;

  private constructor(
    readonly dir: string,
    readonly slotBytes: number,
  ) {
    this.env = new FileEnvStore(join(dir, 'uboot.env'), ENV_BYTES);
    this.recordFile = join(dir, 'update.json');
    this.versionsFile = join(dir, 'slots.json');
  }

  /** A board fresh from the image: its firmware in slot A, committed; slot B empty. */
  static async create(dir: string, version: string, slotBytes = 64 << 20): Promise<EmulatedSlots> {
    await mkdir(dir, { recursive: true });
    const s = new EmulatedSlots(dir, slotBytes);
    // The environment the boot script saves at its first boot.
    await writeFileAtomic(s.env.path, encodeEnv({ skyminer_slot: 'A' }, ENV_BYTES));
    for (const slot of ['A', 'B'] as const) {
      const fh = await open(s.path(slot), 'w');
      await fh.truncate(slotBytes);
      await fh.close();
    }
    await writeFileAtomic(s.versionsFile, JSON.stringify({ A: version }) + '\n');
    return s;
  }

  path(slot: Slot): string {
    return join(this.dir, `slot-${slot.toLowerCase()}.img`);
  }

  /** What each slot holds: the image's version in A, then whatever an install last wrote (its record says). */
  private async versions(): Promise<Partial<Record<Slot, string>>> {
    const known = JSON.parse(await readFile(this.versionsFile, 'utf8')) as Partial<Record<Slot, string>>;
    const record = await readRecord(this.recordFile);
    if (record && known[record.slot] !== record.version) {
      known[record.slot] = record.version;
      await writeFileAtomic(this.versionsFile, JSON.stringify(known) + '\n');
    }
    return known;
  }

  /** U-Boot's part of a boot: the boot script's choice, saved as its saveenv would; the slot and what it holds. */
  async boot(): Promise<{ slot: Slot; version: string; trial: boolean }> {
    const env = await readEnv(this.env);
    const choice = bootChoice(env);
    if (Object.keys(choice.changes).length) await updateEnv(this.env, choice.changes);
    const version = (await this.versions())[choice.slot] ?? '0.0.0';
    return { slot: choice.slot, version, trial: env.skyminer_try === choice.slot };
  }

  /** The slots as the install code sees them from a boot of `booted`. */
  devices(booted: Slot): SlotDevices {
    return { booted, path: { A: this.path('A'), B: this.path('B') }, bytes: async () => this.slotBytes };
  }
}
