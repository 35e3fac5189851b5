import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { loadJsonFile, writeFileAtomic } from '../lib/files.js';
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
    const loaded = await loadJsonFile(this.path, ledgerSchema, this.now());
    switch (loaded.status) {
      case 'ok':
        return { data: loaded.data };
      case 'missing':
        return { data: emptyLedger() };
      case 'unreadable':
        throw new Error(`rewards ledger ${this.path}: cannot read (${loaded.error})`);
      case 'corrupt':
        return {
          data: emptyLedger(),
          alert: loaded.aside
            ? `rewards ledger ${this.path} unreadable (${loaded.problem}); kept as ${basename(loaded.aside)}, started a fresh one`
            : `rewards ledger ${this.path} unreadable (${loaded.problem}); could not set it aside (${loaded.error}), started a fresh one`,
        };
    }
  }

  /** Saves atomically; saves are queued so two never race on the temporary file. */
  save(data: LedgerData): Promise<void> {
    const run = this.chain.then(() => this.write(data));
    this.chain = run.catch(() => {});
    return run;
  }

  private async write(data: LedgerData): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, JSON.stringify(data) + '\n');
  }
}
