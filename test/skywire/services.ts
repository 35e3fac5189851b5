// Skywire's deployment services, real and offline, inside one network namespace the test made: redis (for dmsg
// discovery), dmsg discovery, a dmsg server, transport discovery and, optionally, the uptime tracker, all from
// the host's Skywire build and listening at one address of that namespace. The services file they answer at is
// written beside them, for visors (`config gen --nofetch -S`) and images (`--skywire-services`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeys, type SkywireTool } from '../../firmware/skywire/visor-config.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the process has exited (at once if it already has). */
export function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

export async function stopProcess(p: ChildProcess | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p) return;
  const done = exited(p);
  p.kill(signal);
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}

/** Starts `cmd args` inside namespace `ns`, its output appended to `log`. */
export function spawnIn(ns: string, cwd: string, log: string, cmd: string, args: string[]): ChildProcess {
  return spawn('sh', ['-c', 'exec "$@" >>"$0" 2>&1', log, 'ip', 'netns', 'exec', ns, cmd, ...args], {
    cwd,
    stdio: 'ignore',
  });
}

/** Waits until something accepts TCP connections at host:port inside the namespace. */
export async function waitTcp(ns: string, host: string, port: number, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await run('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`]).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${what} did not listen on ${host}:${port} in ${timeoutMs} ms`);
    await sleep(200);
  }
}

export interface ServicesOptions {
  /** The host's skywire binary. */
  binary: string;
  /** The namespace the services run in; `address` must be one of its addresses. */
  ns: string;
  address: string;
  /** Their working folder (keys, logs, the services file). */
  dir: string;
  /** Run the uptime tracker (without it services_health stays `connecting`). */
  uptimeTracker?: boolean;
}

export class SkywireServices {
  private readonly processes: ChildProcess[] = [];

  private constructor(
    readonly options: ServicesOptions,
    /** The services file pointing at these services. */
    readonly servicesFile: string,
  ) {}

  static async start(o: ServicesOptions): Promise<SkywireServices> {
    const services = new SkywireServices(o, join(o.dir, 'services-config.json'));
    try {
      await services.launch();
    } catch (err) {
      await services.stop();
      throw err;
    }
    return services;
  }

  private async launch(): Promise<void> {
    const { ns, dir, address, binary } = this.options;
    await mkdir(dir, { recursive: true });
    const at = (port: number) => `${address}:${port}`;
    const start = (log: string, args: string[], cmd = binary) =>
      this.processes.push(spawnIn(ns, dir, join(dir, log), cmd, args));
    const tool: SkywireTool = { binary, cwd: dir, wrap: ['ip', 'netns', 'exec', ns] };
    start(
      'redis.log',
      ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      'redis-server',
    );
    await waitTcp(ns, '127.0.0.1', 6379, 'redis');
    const discKeys = await generateKeys(tool);
    start('dmsg-disc.log', [
      'dmsg',
      'disc',
      '-a',
      at(9090),
      '--redis',
      'redis://127.0.0.1:6379',
      '--sk',
      discKeys.sk,
    ]);
    await waitTcp(ns, address, 9090, 'dmsg discovery');
    const serverKeys = await generateKeys(tool);
    await writeFile(
      join(dir, 'dmsg-server.json'),
      JSON.stringify({
        public_key: serverKeys.pk,
        secret_key: serverKeys.sk,
        discovery: `http://${at(9090)}`,
        public_address: at(8081),
        local_address: at(8081),
        health_endpoint_address: '127.0.0.1:8082',
        log_level: 'info',
        update_interval: 0,
        max_sessions: 2048,
      }),
    );
    start('dmsg-server.log', ['dmsg', 'server', 'start', 'dmsg-server.json']);
    start('tpd.log', ['svc', 'tpd', '-t', '-a', at(9091), '--dmsg-disc', `http://${at(9090)}`]);
    if (this.options.uptimeTracker !== false) {
      start('ut.log', [
        'svc',
        'ut',
        '-t',
        '-a',
        at(9096),
        '-p',
        '127.0.0.1:9086',
        '-m',
        '127.0.0.1:2121',
        '--dmsg-disc',
        `http://${at(9090)}`,
        '--store-data-path',
        join(dir, 'ut-data'),
        // Its daily archive walks day by day from the oldest entry, and the in-memory store (-t) answers with the
        // zero time: about 740,000 files, one per day since year 1, written for minutes at full CPU. Keeping
        // every entry in the store (a cutoff beyond year 1) archives nothing.
        '--store-data-cutoff',
        '1000000',
      ]);
    }
    await waitTcp(ns, address, 8081, 'dmsg server');
    await waitTcp(ns, address, 9091, 'transport discovery');
    await writeFile(
      this.servicesFile,
      JSON.stringify({
        prod: {
          conf: `http://${at(9099)}`,
          dmsg_discovery: `http://${at(9090)}`,
          transport_discovery: `http://${at(9091)}`,
          address_resolver: `http://${at(9093)}`,
          route_finder: `http://${at(9092)}`,
          route_setup_nodes: [],
          transport_setup: [],
          uptime_tracker: `http://${at(9096)}`,
          service_discovery: `http://${at(9098)}`,
          stun_servers: [],
          dns_server: address,
          survey_whitelist: [],
        },
      }),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => stopProcess(p)));
    this.processes.length = 0;
  }
}
