// The firmware's own compositions (every board's agent with its visor service, the manager's supervisor) with a
// real Skywire v1.3.28 visor per board, each in its board's network namespace: nothing is set up by hand. First boot
// makes the hypervisor on board 1 with the firmware's key and account; every worker gets that key over the
// firmware's authenticated channel and its visor joins; a killed visor comes back without its board being reset.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../firmware/config/load.js';
import { Simulator } from '../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../firmware/supervisor/event-log.js';
import { HypervisorClient } from '../../firmware/skywire/hypervisor-client.js';
import { passwordProblem } from '../../firmware/skywire/hypervisor-account.js';
import { KEYS_FILE } from '../../firmware/skywire/visor-host.js';
import { hostSkywire, SkywireLab } from './lab.js';
import { untilRead } from '../helpers/wait.js';

let lab: SkywireLab;
let sim: Simulator;
let startedAt = 0;
const events: SupervisorEvent[] = [];

const passwordFile = () => lab.passwordFile;
const keysOf = async (n: number) =>
  JSON.parse(await readFile(join(lab.board(n).dir, KEYS_FILE), 'utf8')) as { pk: string; sk: string };
const visorOf = (n: number) => sim.supervisor.view().boards[n - 1]!.telemetry?.visor ?? null;
async function client(): Promise<HypervisorClient> {
  const password = (await readFile(passwordFile(), 'utf8')).trim();
  return new HypervisorClient({ url: lab.hypervisorUrl, password, timeoutMs: 25_000 });
}

beforeAll(async () => {
  const binary = await hostSkywire();
  lab = await SkywireLab.start({ binary, boards: 4, firmwareVisors: true });
  startedAt = Date.now();
  sim = new Simulator({
    config: defaultConfig({ box: { boards: 4 }, supervisor: { power_on_gap_ms: 50 } }),
    bootMs: 50,
    events: (e) => events.push(e),
    visors: (n) => lab.firmwareVisor(n),
  });
  await sim.start();
}, 900_000);

afterAll(async () => {
  await sim?.stop();
  await lab?.stop();
});

describe("the firmware's visor service with real Skywire visors", () => {
  it('makes board 1 the hypervisor at first boot, with the key the firmware made and the account it made', async () => {
    const c = await untilRead(
      'the hypervisor to take the firmware-made account',
      async () => {
        const c = await client();
        await c.visorsSummary();
        return c;
      },
      () => true,
    );
    console.log(
      `first boot -> hypervisor answering with its account: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    const password = (await readFile(passwordFile(), 'utf8')).trim();
    expect(passwordProblem(password)).toBeNull();
    const own = (await c.visorsSummary()).find((v) => v.localIp === lab.board(1).ip)!;
    expect(own.pk).toBe((await keysOf(1)).pk);
    // The account is taken: whoever comes next cannot make one.
    const intruder = new HypervisorClient({ url: lab.hypervisorUrl, password: 'Intruder-1x' });
    expect(await intruder.createAccount('Intruder-1x')).toBe('exists');
    await expect(intruder.visorsSummary()).rejects.toThrow('incorrect username or password');
  });

  it("gives every worker the hypervisor's key over the firmware's channel, and lists every visor online", async () => {
    const c = await client();
    const visors = await untilRead(
      'four visors',
      () => c.visorsSummary(),
      (v) => v.length === 4,
    );
    console.log(
      `first boot -> every worker's visor listed: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    const hv = (await keysOf(1)).pk;
    expect(visors.map((v) => v.localIp).sort()).toEqual([
      '192.168.0.2',
      '192.168.0.3',
      '192.168.0.4',
      '192.168.0.5',
    ]);
    for (const n of [2, 3, 4]) {
      const config = JSON.parse(await readFile(lab.board(n).config, 'utf8')) as {
        hypervisors: string[];
        pk: string;
      };
      expect(config.hypervisors).toEqual([hv]);
      expect(visors.find((v) => v.localIp === lab.board(n).ip)).toMatchObject({
        online: true,
        pk: config.pk,
      });
    }
    // Each board reports its visor in its heartbeat, as its agent reads it over the visor's RPC.
    await untilRead(
      'every board reporting its visor running',
      async () => [1, 2, 3, 4].map(visorOf),
      (v) => v.every((x) => x?.status === 'running' && x.dmsg_connected === true),
    );
    for (const n of [2, 3, 4]) expect(visorOf(n)).toMatchObject({ hypervisor_connected: true });
    // The memory each visor holds, for the record (a figure, not a target: targets are in make bench).
    for (const n of [1, 2]) {
      const pid = (await readFile(join(lab.board(n).dir, 'visor.pid'), 'utf8')).trim();
      const rss = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
      console.log(`board ${n} visor (${n === 1 ? 'hypervisor' : 'visor'}) resident memory: ${rss} kB`);
    }
    for (const n of [1, 2, 3, 4])
      expect(visorOf(n)).toMatchObject({
        hypervisor_pk: hv,
        version: 'v1.3.28',
        services_health: 'connecting',
        sick: false,
      });
  });

  it('brings a killed visor back without resetting its board', async () => {
    const c = await client();
    const pid = Number((await readFile(join(lab.board(3).dir, 'visor.pid'), 'utf8')).trim());
    const boots = sim.boards[2]!.boots;
    process.kill(pid, 'SIGKILL');
    await untilRead(
      'board 3 visor restarted',
      async () => visorOf(3),
      (v) => v?.restarts === 1 && v.status === 'running',
    );
    expect(visorOf(3)).toMatchObject({ last_exit: 'signal SIGKILL', sick: false });
    await untilRead(
      'board 3 listed again',
      () => c.visorsSummary(),
      (v) => v.length === 4,
    );
    expect(sim.boards[2]!.boots).toBe(boots);
    expect(events.some((e) => e.board === 3 && ['rebooted', 'failed', 'restart'].includes(e.event))).toBe(
      false,
    );
    expect(events).toContainEqual(expect.objectContaining({ board: 3, event: 'visor-restarted' }));
  });
});
