/** One output line as the firmware sees it: logical levels, active-low already applied. */
export interface OutputLine {
  /** Where the line is, for logs: `gpiochip0:3 (pwr-b2)`. */
  readonly name: string;
  /** The level the line is driven to now, read back from the hardware (never a cached belief). */
  read(): Promise<0 | 1>;
  write(value: 0 | 1): Promise<void>;
  /** Gives the line up. Backends hold the level where their kernel interface allows it. */
  close(): Promise<void>;
}

/** How a line is named in the config: by chip and offset (or by its line name), never by a global number. */
export interface LineSpec {
  chip: string;
  offset?: number;
  name?: string;
  activeLow?: boolean;
}

export function describeLine(spec: LineSpec): string {
  const where =
    spec.offset !== undefined ? `${spec.chip}:${spec.offset}` : `${spec.chip}:"${spec.name ?? '?'}"`;
  return spec.activeLow ? `${where} (active-low)` : where;
}
