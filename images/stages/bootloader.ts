import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSunxiSpl } from '../layout/disk.js';
import type { Profile } from '../profile/schema.js';
import { describeInput, unpackInput, type InputLock } from '../lib/inputs.js';

/** A board whose bootloader no reachable package provides, built without the file: names what to supply. */
export class BootloaderMissing extends Error {
  override readonly name = 'BootloaderMissing';
}

export interface BootloaderPart {
  data: Buffer;
  offset: number;
}

export interface Bootloader {
  /** The SPL (or SPL + U-Boot in one file) first, then U-Boot's FIT image where it comes apart. */
  parts: BootloaderPart[];
  /** Where it came from, for the manifest. */
  source: string;
}

const FIT_MAGIC = 0xd00dfeed;

export async function resolveBootloader(
  profile: Profile,
  o: { supplied?: string; lock: InputLock; cacheDir: string; log: (m: string) => void },
): Promise<Bootloader | undefined> {
  const b = profile.bootloader;
  if (b.kind === 'none') return undefined;
  let data: Buffer;
  let source: string;
  if (o.supplied) {
    data = await readFile(o.supplied).catch((err: NodeJS.ErrnoException) => {
      throw new BootloaderMissing(`--bootloader ${o.supplied}: cannot read (${err.code ?? String(err)})`);
    });
    source = `supplied file ${o.supplied}`;
  } else if (b.input && b.path) {
    const dir = await unpackInput(o.lock, b.input, o.cacheDir, o.log);
    data = await readFile(join(dir, b.path)).catch(() => {
      throw new BootloaderMissing(`${profile.name}: ${b.path} is not in ${describeInput(o.lock[b.input!]!)}`);
    });
    source = `${describeInput(o.lock[b.input]!)}: /${b.path}`;
  } else {
    throw new BootloaderMissing(
      `${profile.name}: no reachable package has this board's bootloader; build ${b.file} from U-Boot's ${b.defconfig} and pass it with --bootloader ${b.file}`,
    );
  }
  if (!isSunxiSpl(data))
    throw new BootloaderMissing(
      `${profile.name}: ${source} is not a sunxi bootloader (no eGON.BT0 header at byte 4)`,
    );
  const parts: BootloaderPart[] = [{ data, offset: b.offset }];
  if (b.fit_path && b.input && !o.supplied) {
    const dir = await unpackInput(o.lock, b.input, o.cacheDir, o.log);
    const fit = await readFile(join(dir, b.fit_path)).catch(() => {
      throw new BootloaderMissing(
        `${profile.name}: ${b.fit_path} is not in ${describeInput(o.lock[b.input!]!)}`,
      );
    });
    if (fit.length < 4 || fit.readUInt32BE(0) !== FIT_MAGIC)
      throw new BootloaderMissing(`${profile.name}: ${b.fit_path} is not a U-Boot FIT image`);
    if (b.offset + data.length > b.fit_offset)
      throw new BootloaderMissing(
        `${profile.name}: the SPL (${data.length} bytes) runs into the FIT image at ${b.fit_offset}`,
      );
    parts.push({ data: fit, offset: b.fit_offset });
    source += ` + /${b.fit_path} at ${b.fit_offset}`;
  }
  return { parts, source };
}
