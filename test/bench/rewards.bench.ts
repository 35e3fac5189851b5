import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDay, emptyLedger, setToday } from '../../firmware/rewards/ledger.js';
import { LedgerStore } from '../../firmware/rewards/ledger-store.js';
import { rewardsJson } from '../../firmware/rewards/output.js';
import { RewardsService } from '../../firmware/rewards/service.js';
import { EmulatedHypervisor } from '../../firmware/skywire/emulated-hypervisor.js';
import { EmulatedVisor, emulatedPk } from '../../firmware/skywire/emulated-visor.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Rewards figures: one hypervisor poll of an 8-board box, the view, and a ledger save. */
export default async function (): Promise<void> {
  const visors = Array.from({ length: 8 }, (_, i) => {
    const v = new EmulatedVisor({
      pk: emulatedPk(`bench${i}`),
      localIp: `192.168.0.${i + 2}`,
      rewardAddress: 'x',
    });
    v.start(Date.now() - 3_600_000);
    return v;
  });
  const hv = new EmulatedHypervisor({ visors: () => visors, password: 'pw' });
  await hv.start();
  const client = new HypervisorClient({ url: hv.url, password: 'pw' });
  const service = new RewardsService({
    boards: 8,
    boardAddress: (n) => `192.168.0.${n + 1}`,
    hypervisor: client,
    skycoin: { balance: () => Promise.resolve({ droplets: 0, sky: 0, coinHours: 0 }) },
    minVersion: 'v1.3.26',
    thresholdPct: 75,
    pool: { poolSkyPerYear: 408_000, networkShares: 5000, maxSharesPerIp: 8 },
    summaryPollMs: 60_000,
    balancePollMs: 900_000,
    staleAfterMs: 300_000,
  });
  const polls: number[] = [];
  for (let i = 0; i < 50; i++) {
    for (const v of visors) v.carry(50_000, 10_000);
    const t = performance.now();
    await service.pollSummary();
    polls.push(performance.now() - t);
  }
  await hv.stop();
  console.log(`hypervisor poll, 8 visors over loopback: median ${median(polls).toFixed(2)} ms`);

  const n = 10_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) rewardsJson(service.view());
  console.log(`view + rewards JSON, 8 boards: ${(((performance.now() - t) * 1000) / n).toFixed(1)} us`);

  const dir = await mkdtemp(join(tmpdir(), 'rewards-bench-'));
  const store = new LedgerStore(join(dir, 'rewards-ledger.json'));
  let ledger = emptyLedger();
  for (let d = 0; d < 400; d++) {
    const day = new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
    for (let b = 1; b <= 8; b++) ledger = closeDay(ledger, b, day, 80_000_000, 75);
  }
  for (let b = 1; b <= 8; b++) ledger = setToday(ledger, b, { day: '2025-02-05', onlineMs: 1000, lastMs: 1 });
  const saves: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await store.save(ledger);
    saves.push(performance.now() - s);
  }
  console.log(
    `ledger save (400 days x 8 boards, ${JSON.stringify(ledger).length} bytes, temp+fsync+rename): median ${median(saves).toFixed(2)} ms`,
  );
  await rm(dir, { recursive: true, force: true });
}
