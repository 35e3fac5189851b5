import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEnvelope } from '../../firmware/auth/envelope.js';
import { deriveBoardKey } from '../../firmware/auth/keys.js';
import { decodeAgentMessage, type Heartbeat } from '../../firmware/protocol/messages.js';
import { SKYMINER } from '../helpers/skyminer.js';

const BOARD = 2;
const secret = Buffer.alloc(32, 0x5a);

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function bound(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

/** A port no one holds right now (the agent binds its own command port). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  const port = await bound(s);
  s.close();
  return port;
}

/** Whether this machine has a thermal zone with a readable temperature. */
async function hasThermalZone(): Promise<boolean> {
  const zones = await readdir('/sys/class/thermal').catch(() => [] as string[]);
  for (const z of zones.filter((n) => n.startsWith('thermal_zone'))) {
    if (/^-?\d+/.test(await readFile(`/sys/class/thermal/${z}/temp`, 'utf8').catch(() => ''))) return true;
  }
  return false;
}

describe('skyminer agent on a real machine', () => {
  it('sends authenticated heartbeats carrying this machine’s CPU, memory, load, temperature, network and inventory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-device-'));
    const manager = createSocket('udp4');
    const beats: Heartbeat[] = [];
    const refused: string[] = [];
    manager.on('message', (datagram) => {
      const opened = openEnvelope(datagram, (b) => (b === BOARD ? deriveBoardKey(secret, b) : undefined));
      const decoded = opened.ok ? decodeAgentMessage(opened.body) : opened;
      if (!decoded.ok) return void refused.push(decoded.error);
      if (decoded.figuresError) refused.push(decoded.figuresError);
      if (decoded.message.type === 'heartbeat') beats.push(decoded.message);
    });
    const heartbeatPort = await bound(manager);
    await writeFile(join(dir, 'box.key'), secret.toString('hex') + '\n', { mode: 0o600 });
    // The real /proc and /sys (the agent's root is /); no watchdog, and this machine's disks are only reported.
    await writeFile(
      join(dir, 'skyminer.toml'),
      [
        '[box]',
        `slot = ${BOARD}`,
        '[network]',
        'manager_address = "127.0.0.1"',
        `heartbeat_port = ${heartbeatPort}`,
        `agent_port = ${await freePort()}`,
        '[agent]',
        'watchdog = ""',
        'cache_disk = false',
        '[auth]',
        `box_secret = "${join(dir, 'box.key')}"`,
        `board_key = "${join(dir, 'board.key')}"`,
      ].join('\n') + '\n',
    );
    const child = spawn(process.execPath, [SKYMINER, 'agent', '--config', join(dir, 'skyminer.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanup = async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      manager.close();
      await rm(dir, { recursive: true, force: true });
    };

    // CPU and network rates need two samples; the inventory is read once, in the background, at start.
    const complete = (h: Heartbeat): boolean =>
      h.telemetry?.cpu_pct !== null && h.telemetry?.cpu_pct !== undefined && !!h.telemetry.inventory;
    const deadline = Date.now() + 25_000;
    while (!beats.some(complete) && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 100));
    const beat = beats.find(complete);
    expect(beat, `no complete heartbeat; agent said:\n${stderr}`).toBeDefined();
    expect(refused).toEqual([]);
    expect(beat!.board).toBe(BOARD);
    expect(beat!.health.ok).toBe(true);

    const t = beat!.telemetry!;
    expect(t.cpu_pct).toBeGreaterThanOrEqual(0);
    expect(t.cpu_pct).toBeLessThanOrEqual(100);
    const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(await readFile('/proc/meminfo', 'utf8'))![1]);
    expect(t.mem_total_bytes).toBe(memTotalKb * 1024);
    expect(t.mem_used_bytes).toBeGreaterThan(0);
    expect(t.load1).toBeGreaterThanOrEqual(0);
    if (await hasThermalZone()) expect(t.temp_c).toEqual(expect.any(Number));
    else expect(t.temp_c).toBeNull();
    const nics = (await readFile('/proc/net/dev', 'utf8'))
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0]!.trim())
      .filter((n) => n && n !== 'lo');
    if (nics.length > 0) {
      expect(t.net_rx_bps).toBeGreaterThanOrEqual(0);
      expect(t.net_tx_bps).toBeGreaterThanOrEqual(0);
    }
    expect(t.disks.every((d) => d.disk.length > 0)).toBe(true);

    const inv = t.inventory!;
    expect(inv.kernel).toBe(release());
    expect(inv.cores).toBe(cpus().length);
    expect(inv.mem_total_bytes).toBeGreaterThan(0);
    expect(inv.os).toEqual(expect.any(String));
    const macs = await Promise.all(
      nics.map((n) =>
        readFile(`/sys/class/net/${n}/address`, 'utf8').then(
          (a) => a.trim(),
          () => '',
        ),
      ),
    );
    if (macs.some((m) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) && m !== '00:00:00:00:00:00'))
      expect(macs).toContain(inv.mac);

    // A clean stop, as the init system asks for it.
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A worker keeps only its own key once enrolled.
    expect(existsSync(join(dir, 'board.key'))).toBe(true);
  }, 40_000);
});
