import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../drivers/logger.js';
import { rewardsJson } from '../../../firmware/rewards/output.js';
import {
  checkRewardAddress,
  planRewardAddress,
  RewardAddressStore,
} from '../../../firmware/rewards/reward-address.js';
import { RewardsService, type HypervisorSource } from '../../../firmware/rewards/service.js';
import { EmulatedVisor, emulatedPk } from '../../../firmware/skywire/emulated-visor.js';
import { skycoinAddressOf } from '../../../firmware/skywire/skycoin-address.js';
import { parseVisorsSummary } from '../../../firmware/skywire/visor-summary.js';

const OLD = skycoinAddressOf(Buffer.alloc(20, 1));
const NEW = skycoinAddressOf(Buffer.alloc(20, 2));
const now = Date.UTC(2026, 4, 1, 12);

async function rig(dir?: string) {
  const visors = [1, 2, 3, 4].map(
    (n) => new EmulatedVisor({ pk: emulatedPk(`b${n}`), localIp: `192.168.0.${n + 1}`, rewardAddress: OLD }),
  );
  for (const v of visors) v.start(now - 3_600_000);
  const listed = new Set([1, 2, 3, 4]);
  const refuse = new Map<string, string>();
  const puts: string[] = [];
  const hypervisor: HypervisorSource = {
    visorsSummary: () =>
      Promise.resolve(
        parseVisorsSummary(visors.filter((_, i) => listed.has(i + 1)).map((v) => v.summary(now))),
      ),
    setRewardAddress: (pk, address) => {
      puts.push(pk);
      const why = refuse.get(pk);
      if (why) return Promise.reject(new Error(why));
      visors.find((v) => v.pk === pk)!.rewardAddress = address;
      return Promise.resolve();
    },
  };
  const path = join(dir ?? (await mkdtemp(join(tmpdir(), 'reward-address-'))), 'reward-address.json');
  const logger = new MemoryLogger();
  const make = () =>
    new RewardsService({
      boards: 4,
      boardAddress: (n) => `192.168.0.${n + 1}`,
      hypervisor,
      skycoin: { balance: () => Promise.reject(new Error('no node')) },
      addressStore: new RewardAddressStore(path),
      minVersion: 'v1.3.26',
      thresholdPct: 75,
      pool: { poolSkyPerYear: 1, networkShares: 1000, maxSharesPerIp: 8 },
      summaryPollMs: 60_000,
      balancePollMs: 60_000,
      staleAfterMs: 300_000,
      now: () => now,
      logger,
    });
  return { visors, listed, refuse, puts, path, logger, make };
}

const standings = (s: RewardsService) =>
  rewardsJson(s.view()).boards.map((b) => [b.board, b.reward_address_status]);

describe('the reward address plan', () => {
  it('sets the address on every listed visor that does not report it, and names the unlisted ones', () => {
    const plan = planRewardAddress(NEW, [
      { board: 1, pk: 'a', reported: NEW, lastError: null },
      { board: 2, pk: 'b', reported: OLD, lastError: null },
      { board: 3, pk: null, reported: null, lastError: null },
      { board: 4, pk: 'd', reported: null, lastError: 'HTTP 500: boom' },
    ]);
    expect(plan.set).toEqual([
      { board: 2, pk: 'b' },
      { board: 4, pk: 'd' },
    ]);
    expect([...plan.standing]).toEqual([
      [1, 'set'],
      [2, 'setting'],
      [3, 'unreachable'],
      [4, 'failed'],
    ]);
  });

  it('does nothing before an address is chosen', () => {
    const plan = planRewardAddress(null, [{ board: 1, pk: 'a', reported: OLD, lastError: null }]);
    expect(plan).toEqual({ set: [], onBoard: [], standing: new Map([[1, 'none']]), way: new Map() });
  });

  it('sets it on the board itself for a visor the hypervisor cannot reach or failed to set, and says which way took', () => {
    const plan = planRewardAddress(NEW, [
      { board: 1, pk: 'a', reported: NEW, lastError: null, onBoard: NEW },
      { board: 2, pk: null, reported: null, lastError: null, onBoard: OLD },
      { board: 3, pk: null, reported: null, lastError: null, onBoard: NEW },
      { board: 4, pk: 'd', reported: OLD, lastError: 'HTTP 500: boom', onBoard: OLD },
      { board: 5, pk: 'e', reported: OLD, lastError: null, onBoard: OLD },
      { board: 6, pk: null, reported: null, lastError: null, onBoard: null },
    ]);
    // Through the hypervisor where it lists the visor; on the board where it does not, or where it failed.
    expect(plan.set).toEqual([
      { board: 4, pk: 'd' },
      { board: 5, pk: 'e' },
    ]);
    expect(plan.onBoard).toEqual([2, 4, 6]);
    expect([...plan.standing]).toEqual([
      [1, 'set'],
      [2, 'unreachable'],
      [3, 'set'],
      [4, 'failed'],
      [5, 'setting'],
      [6, 'unreachable'],
    ]);
    expect([...plan.way]).toEqual([
      [1, 'hypervisor'],
      [3, 'board'],
    ]);
  });

  it('refuses a mistyped address with one line naming what is wrong', () => {
    expect(checkRewardAddress(` ${NEW} `)).toEqual({ ok: true, address: NEW });
    expect(checkRewardAddress(NEW.slice(0, -1) + (NEW.endsWith('a') ? 'b' : 'a'))).toEqual({
      ok: false,
      error: 'not a Skycoin address: its checksum does not match (a mistyped character?)',
    });
    expect(checkRewardAddress('0OIl')).toEqual({
      ok: false,
      error: 'not a Skycoin address: "0" is not a base58 character',
    });
    expect(checkRewardAddress('')).toMatchObject({ ok: false });
  });
});

describe('rewards address', () => {
  it('sets the address on every visor, reads it back from each, and keeps it on disk', async () => {
    const r = await rig();
    const service = r.make();
    await service.load();
    const view = await service.setRewardAddress(NEW);
    expect(r.visors.map((v) => v.rewardAddress)).toEqual([NEW, NEW, NEW, NEW]);
    expect(rewardsJson(view).boards.map((b) => [b.reward_address, b.reward_address_status])).toEqual(
      Array(4).fill([NEW, 'set']),
    );
    expect(rewardsJson(view).box.reward_address).toBe(NEW);
    expect(JSON.parse(await readFile(r.path, 'utf8'))).toEqual({ version: 1, address: NEW, set_at_ms: now });
  });

  it('sets it on a visor the hypervisor could not list when it comes back, and on a new visor after a restart', async () => {
    const r = await rig();
    r.listed.delete(3);
    const first = r.make();
    await first.load();
    await first.setRewardAddress(NEW);
    expect(standings(first)).toEqual([
      [1, 'set'],
      [2, 'set'],
      [3, 'unreachable'],
      [4, 'set'],
    ]);
    expect(r.visors[2]!.rewardAddress).toBe(OLD);
    // The manager restarts; board 3's visor is back, and board 4's is a new visor (a regenerated config).
    r.listed.add(3);
    r.visors[3]!.rewardAddress = '';
    const second = r.make();
    await second.load();
    await second.pollSummary();
    await second.pollSummary();
    expect(r.visors.map((v) => v.rewardAddress)).toEqual([NEW, NEW, NEW, NEW]);
    expect(standings(second).every(([, s]) => s === 'set')).toBe(true);
  });

  it('shows a visor the hypervisor refuses as failed with the reason, logged once, and tries again later', async () => {
    const r = await rig();
    const service = r.make();
    await service.load();
    r.refuse.set(r.visors[1]!.pk, 'hypervisor: HTTP 500: rpc timeout');
    await service.setRewardAddress(NEW);
    const b2 = rewardsJson(service.view()).boards[1]!;
    expect(b2).toMatchObject({
      reward_address: OLD,
      reward_address_status: 'failed',
      reward_address_error: 'hypervisor: HTTP 500: rpc timeout',
    });
    expect(r.logger.lines.filter((l) => l.includes('not set on board 2'))).toHaveLength(1);
    r.refuse.clear();
    await service.pollSummary();
    await service.pollSummary();
    expect(rewardsJson(service.view()).boards[1]!.reward_address_status).toBe('set');
    expect(r.logger.lines).toContain('info: rewards: reward address set on board 2');
  });

  it('refuses a bad address before anything changes: no file, no visor touched', async () => {
    const r = await rig();
    const service = r.make();
    await service.load();
    await expect(service.setRewardAddress('2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os7')).rejects.toThrow(
      /^not a Skycoin address: /,
    );
    expect(r.puts).toEqual([]);
    await expect(readFile(r.path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(rewardsJson(service.view()).box.reward_address).toBeNull();
  });

  it('refuses to choose an address it cannot keep, and sets none', async () => {
    const r = await rig('/proc/self');
    const service = r.make();
    await service.load();
    await expect(service.setRewardAddress(NEW)).rejects.toThrow(
      /^cannot keep the reward address in \/proc\/self\/reward-address\.json: /,
    );
    expect(r.puts).toEqual([]);
  });

  it('sets a damaged kept address aside and says so, choosing none', async () => {
    const r = await rig();
    await writeFile(r.path, '{"version":1,"address":"nope","set_at_ms":1}');
    const service = r.make();
    await service.load();
    expect(service.view().alerts[0]).toMatch(
      /reward address .*: address: not a valid Skycoin address; set aside/,
    );
    expect(service.view().rewardAddress).toBeNull();
  });
});
