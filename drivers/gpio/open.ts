import { loadNativeIoctl } from '../native/addon.js';
import { nativeChardevApi, openChardevLine, type GpioChardevApi } from './chardev.js';
import type { LineSpec, OutputLine } from './line.js';
import { openSysfsLine } from './sysfs.js';

export type GpioBackend = 'chardev' | 'sysfs';

export interface OpenLineOptions {
  /** Where the character devices are (`/dev`) and where sysfs is (`/sys`); tests point them at temp trees. */
  devDir?: string;
  sysRoot?: string;
  api?: GpioChardevApi;
}

/**
 * Opens one output line on real hardware. The current level is read first and a line that is already an
 * output keeps its level; `initial` only applies to a line nobody drives yet.
 */
export function openOutputLine(
  spec: LineSpec,
  backend: GpioBackend,
  initial?: 0 | 1,
  options: OpenLineOptions = {},
): Promise<OutputLine> {
  if (backend === 'sysfs') return openSysfsLine(spec, options.sysRoot, initial);
  return openChardevLine(
    spec,
    { api: options.api ?? nativeChardevApi(loadNativeIoctl()), devDir: options.devDir },
    initial,
  );
}
