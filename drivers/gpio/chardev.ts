import { closeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { NativeIoctl } from '../native/addon.js';
import { describeLine, type LineSpec, type OutputLine } from './line.js';

export type GpioChardevApi = Pick<
  NativeIoctl,
  'gpioChipInfo' | 'gpioLineInfo' | 'gpioRequestAsIs' | 'gpioGetValue' | 'gpioSetOutput' | 'gpioSetValue'
> & {
  /** Closes a line's file, which releases the line. */
  closeLine(fd: number): void;
};

/** The character-device calls of the native addon. */
export function nativeChardevApi(native: NativeIoctl): GpioChardevApi {
  return {
    gpioChipInfo: (path) => native.gpioChipInfo(path),
    gpioLineInfo: (path, offset) => native.gpioLineInfo(path, offset),
    gpioRequestAsIs: (path, offset, consumer) => native.gpioRequestAsIs(path, offset, consumer),
    gpioGetValue: (fd) => native.gpioGetValue(fd),
    gpioSetOutput: (fd, value) => native.gpioSetOutput(fd, value),
    gpioSetValue: (fd, value) => native.gpioSetValue(fd, value),
    closeLine: (fd) => closeSync(fd),
  };
}

export interface ChardevOptions {
  api: GpioChardevApi;
  /** Where the gpiochipN nodes are; tests point it elsewhere. */
  devDir?: string;
  consumer?: string;
}

/** Finds a chip by its device name (`gpiochip0`) or its label (`9030000.pl061`). */
export async function findChardevChip(chip: string, api: GpioChardevApi, devDir = '/dev'): Promise<string> {
  const nodes = (await readdir(devDir)).filter((n) => /^gpiochip\d+$/.test(n)).sort();
  if (nodes.includes(chip)) return join(devDir, chip);
  const labels: string[] = [];
  for (const node of nodes) {
    const info = api.gpioChipInfo(join(devDir, node));
    if (info.label === chip) return join(devDir, node);
    labels.push(`${node} [${info.label}]`);
  }
  throw new Error(`no GPIO chip "${chip}" (found: ${labels.join(', ') || 'none'})`);
}

function findOffset(path: string, spec: LineSpec, api: GpioChardevApi): number {
  const lines = api.gpioChipInfo(path).lines;
  if (spec.offset !== undefined) {
    if (spec.offset >= lines) throw new Error(`${describeLine(spec)}: the chip has only ${lines} lines`);
    return spec.offset;
  }
  for (let offset = 0; offset < lines; offset++) {
    if (api.gpioLineInfo(path, offset).name === spec.name) return offset;
  }
  throw new Error(`${describeLine(spec)}: no line of that name on ${path}`);
}

/**
 * A line through the GPIO character device. The request asks for neither direction, so the kernel leaves the
 * line as it is; the level is read first and the line is only made an output at the level it already has (or
 * at `initial` when nobody drove it). Closing releases the line: controllers such as the PL061 and the
 * Allwinner PIO keep the last direction and level in their registers, so the next supervisor adopts the line
 * without a glitch (proven under QEMU in test/hil/gpio.test.ts).
 */
export async function openChardevLine(
  spec: LineSpec,
  options: ChardevOptions,
  initial?: 0 | 1,
): Promise<OutputLine> {
  const { api } = options;
  const name = describeLine(spec);
  const path = await findChardevChip(spec.chip, api, options.devDir);
  const offset = findOffset(path, spec, api);
  const fd = api.gpioRequestAsIs(path, offset, options.consumer ?? 'skyminer');
  const invert = spec.activeLow === true ? 1 : 0;
  const physical = (logical: 0 | 1): 0 | 1 => (logical ^ invert) as 0 | 1;
  let driven: boolean;
  try {
    driven = api.gpioLineInfo(path, offset).output;
    if (driven) {
      // Already an output: claim it at its own level, never at `initial`.
      api.gpioSetOutput(fd, api.gpioGetValue(fd));
    } else if (initial !== undefined) {
      api.gpioSetOutput(fd, physical(initial));
      driven = true;
    }
  } catch (err) {
    api.closeLine(fd);
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  let open = true;
  return {
    name,
    read: () => Promise.resolve(physical(api.gpioGetValue(fd))),
    write: (value) => {
      if (!open) return Promise.reject(new Error(`${name} is closed`));
      try {
        if (driven) api.gpioSetValue(fd, physical(value));
        else api.gpioSetOutput(fd, physical(value));
        driven = true;
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(new Error(`${name}: ${(err as Error).message}`));
      }
    },
    close: () => {
      if (open) api.closeLine(fd);
      open = false;
      return Promise.resolve();
    },
  };
}
