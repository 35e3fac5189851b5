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
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name}: expected a whole number, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name}: expected ${min} to ${max}, got ${n}`);
  return n;
}

export function numberOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name}: expected a number, got "${value}"`);
  if (n < min || n > max) throw new UsageError(`--${name}: expected ${min} to ${max}, got ${n}`);
  return n;
}
