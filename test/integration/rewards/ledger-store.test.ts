import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeDay, emptyLedger, recordBalance, setToday } from '../../../firmware/rewards/ledger.js';
import { LedgerStore } from '../../../firmware/rewards/ledger-store.js';

const H = 3_600_000;
const t0 = Date.UTC(2025, 2, 14, 1);

describe('rewards ledger file', () => {
  it('survives a restart: what was saved is what loads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
    const store = new LedgerStore(join(dir, 'state', 'rewards-ledger.json'));
    // A balance as the Skycoin client gives it, with the SKY figure that the ledger does not keep.
    const fromClient = { droplets: 1, sky: 0.000001, coinHours: 2 };
    let l = recordBalance(emptyLedger(), fromClient, t0, 0).ledger;
    l = setToday(l, 2, { day: '2025-03-14', onlineMs: H, lastMs: t0, lastUptimeS: 3600 });
    l = closeDay(l, 2, '2025-03-13', 19 * H, 75);
    await store.save(l);
    expect(await new LedgerStore(store.path).load()).toEqual({ data: l });
    expect(await readdir(join(dir, 'state'))).toEqual(['rewards-ledger.json']);
  });

  it('keeps a corrupt ledger aside, starts a fresh one and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
    const path = join(dir, 'rewards-ledger.json');
    await writeFile(path, '{"version":1,"payouts":[{"atMs":');
    const store = new LedgerStore(path, () => Date.UTC(2025, 2, 14, 9, 30));
    const loaded = await store.load();
    expect(loaded.data).toEqual(emptyLedger());
    expect(loaded.alert).toBe(
      `rewards ledger ${path} unreadable (not JSON); kept as rewards-ledger.json.corrupt-2025-03-14T09-30-00-000Z, started a fresh one`,
    );
    expect(await readFile(join(dir, 'rewards-ledger.json.corrupt-2025-03-14T09-30-00-000Z'), 'utf8')).toBe(
      '{"version":1,"payouts":[{"atMs":',
    );
    expect(await readdir(dir)).toEqual(['rewards-ledger.json.corrupt-2025-03-14T09-30-00-000Z']);
  });

  it('names the field of a ledger with the wrong shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-'));
    const path = join(dir, 'l.json');
    await writeFile(
      path,
      JSON.stringify({ ...emptyLedger(), payouts: [{ atMs: 1, sky: -1, droplets: 1, shares: 1 }] }),
    );
    const loaded = await new LedgerStore(path, () => 0).load();
    expect(loaded.alert).toMatch(
      /^rewards ledger .*l\.json unreadable \(payouts\.0\.sky: .*\); kept as l\.json\.corrupt-/,
    );
  });
});
