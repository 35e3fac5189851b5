/**
 * Collects one line from raw keystrokes, for the password prompts where nothing may be echoed or remembered:
 * Enter ends it, Backspace and Ctrl-U edit it, Ctrl-C cancels it, escape sequences (arrow keys, pasted colours)
 * and other control characters are dropped. Whatever follows Enter in the same chunk is handed back unread.
 */
export class KeyLineReader {
  private text = '';
  private escape: 'none' | 'start' | 'csi' = 'none';
  private skipNewline = false;

  constructor(
    private readonly options: {
      echo: (s: string) => void;
      /** Echo characters as typed (a yes/no answer) or nothing at all (a password). */
      visible: boolean;
      maxLength: number;
    },
  ) {}

  /** Feeds keystrokes; returns the finished line (null when cancelled) and the unread rest, or undefined. */
  feed(data: string): { line: string | null; rest: string } | undefined {
    const chars = [...data];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (this.escape === 'start') {
        this.escape = c === '[' || c === 'O' ? 'csi' : 'none';
        continue;
      }
      if (this.escape === 'csi') {
        if (c >= '@' && c <= '~' && c !== '[') this.escape = 'none';
        continue;
      }
      if (this.skipNewline && c === '\n') {
        this.skipNewline = false;
        continue;
      }
      this.skipNewline = false;
      if (c === '\r' || c === '\n') {
        this.skipNewline = c === '\r';
        const line = this.text;
        this.text = '';
        this.options.echo('\r\n');
        return { line, rest: rest(chars, i + 1, this.skipNewline) };
      }
      if (c === '\x03') {
        this.text = '';
        this.options.echo('^C\r\n');
        return { line: null, rest: rest(chars, i + 1, false) };
      }
      if (c === '\x7f' || c === '\b') {
        if (this.text.length) {
          this.text = [...this.text].slice(0, -1).join('');
          if (this.options.visible) this.options.echo('\b \b');
        }
      } else if (c === '\x15') {
        if (this.options.visible) this.options.echo('\b \b'.repeat([...this.text].length));
        this.text = '';
      } else if (c === '\x1b') {
        this.escape = 'start';
      } else if (c >= ' ' && !(c >= '\x7f' && c <= '\x9f') && this.text.length < this.options.maxLength) {
        this.text += c;
        if (this.options.visible) this.options.echo(c);
      }
    }
    return undefined;
  }
}

function rest(chars: string[], from: number, skipNewline: boolean): string {
  const start = skipNewline && chars[from] === '\n' ? from + 1 : from;
  return chars.slice(start).join('');
}
