// A board's serial console as the harness sees it: everything the port printed across every power-on of the
// board (a card keeps one console, whichever QEMU process runs it), with waits on patterns and a shell channel.
// With BOX_CONSOLE_DIR set, each console is also copied to <dir>/<name>.log as it arrives, to watch a test's
// boards with `tail -f`.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class ConsoleLog {
  private text = '';
  private cursor = 0;
  private waiters: (() => void)[] = [];
  private writer: ((text: string) => void) | undefined;

  private readonly copy: string | undefined;

  constructor(readonly name: string) {
    const dir = process.env.BOX_CONSOLE_DIR;
    this.copy = dir ? join(dir, `${name.replace(/\s+/g, '')}.log`) : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /** The copy is for watching: a copy that cannot be written must not take the test down with it. */
  private copyOut(chunk: string): void {
    try {
      appendFileSync(this.copy!, chunk, 'latin1');
    } catch {
      // the console itself is still kept in memory
    }
  }

  append(chunk: string): void {
    this.text += chunk;
    if (this.copy) this.copyOut(chunk);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Where typed text goes: the running QEMU's stdin, or nowhere while the board is off. */
  attach(writer: ((text: string) => void) | undefined): void {
    this.writer = writer;
  }

  get output(): string {
    return this.text;
  }

  /** Forgets what came before: the next expect() reads only what arrives from now on. */
  skipToEnd(): void {
    this.cursor = this.text.length;
  }

  send(text: string): void {
    if (!this.writer) throw new Error(`${this.name}: the board is off; nothing to type into`);
    this.writer(text);
  }

  /** Waits for the pattern after the last match; what follows it stays for the next. */
  async expect(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const re = new RegExp(pattern.source, pattern.flags.replace('g', ''));
      const m = re.exec(this.text.slice(this.cursor));
      if (m) {
        this.cursor += m.index + m[0].length;
        return m;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `${this.name} console: no ${pattern} within ${timeoutMs} ms; last output:\n${this.text.slice(-1500)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Makes a logged-in shell a plain command channel: no echo, no prompt (see QemuSession.quietShell). */
  async quietShell(timeoutMs = 20_000): Promise<void> {
    const tag = `@@${Math.random().toString(36).slice(2, 8)}`;
    this.send(`stty -echo; PS1=''; PS2=''; echo ${tag}-$((6*7))\n`);
    await this.expect(new RegExp(`${tag}-42\\r*\\n`), timeoutMs);
  }

  /** Runs a command in a quiet shell and returns what it printed. */
  async shell(command: string, timeoutMs = 30_000): Promise<string> {
    const tag = `@@${Math.random().toString(36).slice(2, 8)}`;
    this.send(`${command}; echo ${tag}-$((6*7))\n`);
    const m = await this.expect(new RegExp(`([\\s\\S]*?)${tag}-42\\r*\\n`), timeoutMs);
    return consoleText(m[1]!);
  }
}

/**
 * What a command printed on a serial console, as plain text: no terminal escapes, no carriage returns, and none
 * of the kernel's own lines, which it drops into the output wherever it stood (a slow host makes it say
 * `hrtimer: interrupt took ...`).
 */
export function consoleText(raw: string): string {
  return raw
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\r/g, '')
    .replace(/\[ *\d+\.\d{6}\] [^\n]*\n/g, '');
}
