import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { emptyLedger, ledgerSchema, type LedgerData } from './ledger.js';

export interface LoadedLedger {
  data: LedgerData;
  /** Set when the file on disk could not be used: one line for the log and the panel. */
  alert?: string;
}

/**
 * The ledger file. Every save writes a temporary file, fsyncs it, renames it over the ledger and fsyncs the
 * folder, so a power cut leaves either the old ledger or the new one. A ledger that cannot be read is moved
 * aside (never deleted) and a fresh one started, with an alert.
 */
export class LedgerStore {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<LoadedLedger> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data: emptyLedger() };
      throw err;
    }
    let problem: string;
    try {
      const r = ledgerSchema.safeParse(JSON.parse(text));
      if (r.success) return { data: r.data };
      const issue = r.error.issues[0]!;
      problem = `${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`;
    } catch {
      problem = text.length === 0 ? 'empty file' : 'not JSON';
    }
    const aside = `${this.path}.corrupt-${new Date(this.now()).toISOString().replace(/[:.]/g, '-')}`;
    await rename(this.path, aside);
    return {
      data: emptyLedger(),
      alert: `rewards ledger ${this.path} unreadable (${problem}); kept as ${basename(aside)}, started a fresh one`,
    };
  }

  /** Saves atomically; saves are queued so two never race on the temporary file. */
  save(data: LedgerData): Promise<void> {
    const run = this.chain.then(() => this.write(data));
    this.chain = run.catch(() => {});
    return run;
  }

  private async write(data: LedgerData): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.tmp`);
    const file = await open(tmp, 'w', 0o644);
    try {
      await file.writeFile(JSON.stringify(data) + '\n');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path);
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
}
