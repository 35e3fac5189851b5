/** A mistake in how a command was called: printed as one line, exit code 2 (the convention for usage errors). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses a whole number option, naming the option and the accepted range when it is not one. */
export function intOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return rangedOption(name, value, min, max, true);
}

/** Parses a number option (fractions allowed), naming the option and the accepted range when it is not one. */
export function numberOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  return rangedOption(name, value, min, max, false);
}

function rangedOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
  whole: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (whole ? !/^-?\d+$/.test(value) : value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name}: expected ${whole ? 'a whole number' : 'a number'}, got "${value}"`);
  if (n < min || n > max) throw new UsageError(`--${name}: expected ${min} to ${max}, got ${n}`);
  return n;
}
