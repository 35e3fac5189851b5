/** The longest command line the console and the CLI accept. */
export const MAX_LINE = 4096;

export type Words = { ok: true; words: string[] } | { ok: false; error: string };

/**
 * Splits a command line into words the way a shell does for plain words: blanks separate, single quotes keep
 * everything, double quotes keep everything but `\"` and `\\`, a backslash outside quotes escapes one character.
 * Control characters are refused: they are typing accidents or terminal noise, never part of a command.
 */
export function splitWords(line: string): Words {
  if (line.length > MAX_LINE)
    return { ok: false, error: `line too long (${line.length} characters; at most ${MAX_LINE})` };
  const control = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/.exec(line);
  if (control) {
    return { ok: false, error: `control character ${printable(control[0])} in the line; type plain text` };
  }
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word = `${word ?? ''}${c}`;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\'))
        word = `${word ?? ''}${line[++i] ?? ''}`;
      else word = `${word ?? ''}${c}`;
    } else if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\') {
      if (i + 1 >= line.length)
        return { ok: false, error: 'a backslash ends the line; nothing follows it to escape' };
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== null) return { ok: false, error: `unbalanced ${quote === "'" ? 'single' : 'double'} quote` };
  if (word !== null) words.push(word);
  return { ok: true, words };
}

/**
 * Shows untrusted text safely inside a message: quoted, control characters escaped, cut to `max` characters,
 * so that a hostile line can never move the cursor or recolour the terminal when it is echoed back.
 */
export function printable(text: string, max = 40): string {
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
