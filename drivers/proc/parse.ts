/** Small helpers shared by the /proc and /sys parsers. */

/** Splits on runs of spaces and tabs, dropping empty fields. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/** Parses a non-negative integer field; NaN on anything else, so callers can reject a malformed line. */
export function uint(text: string | undefined): number {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
}

/** A one-line error naming the file and what was wrong with it. */
export class ParseError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
    this.name = 'ParseError';
  }
}
