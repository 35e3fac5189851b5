// A real, offline Skywire network inside network namespaces this test makes: a bridge (the box's switch), the
// deployment services at 192.168.0.1 (redis, dmsg discovery, a dmsg server, transport discovery, uptime tracker),
// and one namespace per board at 192.168.0.2, .3, ... running a real visor (board 1's is the hypervisor). The test
// process reaches the hypervisor through a loopback port forwarded into the manager's namespace: nothing is sent
// anywhere but loopback and the namespaces.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../images/build.js';
import { loadLock } from '../../images/lib/inputs.js';
import { buildSkywire } from '../../images/stages/skywire.js';
import {
  generateKeys,
  makeVisorConfig,
  type KeyPair,
  type SkywireTool,
} from '../../firmware/skywire/visor-config.js';
import type { BoardVisorHardware } from '../../firmware/compose/board.js';
import { PASSWORD_FILE } from '../../firmware/skywire/hypervisor-account.js';
import { DEFAULT_VISOR_POLICY } from '../../firmware/skywire/visor-policy.js';
import { SkywireHost } from '../../firmware/skywire/visor-host.js';
import { SkywireServices, spawnIn, stopProcess, waitTcp } from './services.js';

export { exited } from './services.js';

const run = promisify(execFile);
const SERVICES_IP = '192.168.0.1';
export const ALL_APPS = ['skychat', 'skysocks', 'skysocks-client', 'vpn-server', 'vpn-client'];

export interface LabBoard {
  board: number;
  ns: string;
  ip: string;
  dir: string;
  keys: KeyPair;
  config: string;
  visor: ChildProcess | null;
}

export interface LabOptions {
  binary: string;
  boards: number;
  /** Run the uptime tracker (without it services_health stays `connecting`). */
  uptimeTracker?: boolean;
  /**
   * Leave the boards' visors to the firmware: the lab makes the network, the services and each board's folder,
   * but no keys, configs or visors (`keys` stay empty until the firmware made them).
   */
  firmwareVisors?: boolean;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This host's skywire, built from the pinned source once per run (`make skywire`) and shared by every test. */
export async function hostSkywire(): Promise<string> {
  const repo = repoRoot();
  const lock = await loadLock(join(repo, 'images', 'inputs.lock.json'));
  const cacheDir = join(repo, '.cache', 'images');
  return (await buildSkywire({ repo, lock, goarch: 'amd64', cacheDir, log: () => undefined })).binary;
}

export class SkywireLab {
  readonly boards: LabBoard[] = [];
  private services: SkywireServices | null = null;
  private readonly namespaces: string[] = [];
  private forwardServer: Server | null = null;
  private nsForwarder: ChildProcess | null = null;
  private readonly sockets = new Set<Socket>();
  hypervisorUrl = '';

  private constructor(
    readonly dir: string,
    readonly prefix: string,
    readonly options: LabOptions,
  ) {}

  static async start(options: LabOptions): Promise<SkywireLab> {
    if (process.getuid?.() !== 0)
      throw new Error('the real-Skywire tests make network namespaces: run them as root');
    const dir = await mkdtemp(join(tmpdir(), 'skywire-lab-'));
    const lab = new SkywireLab(dir, `swt${process.pid % 100000}`, options);
    try {
      await lab.network();
      await lab.startServices();
      if (options.firmwareVisors) await lab.folders();
      else {
        await lab.configure();
        for (const b of lab.boards) lab.startVisor(b.board);
      }
      await lab.forward();
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  }

  private tool(ns: string, cwd: string): SkywireTool {
    return { binary: this.options.binary, cwd, wrap: ['ip', 'netns', 'exec', ns] };
  }

  private async network(): Promise<void> {
    const net = `${this.prefix}-net`;
    await ip('netns', 'add', net);
    this.namespaces.push(net);
    await ip('-n', net, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', net, 'link', 'set', 'br0', 'up');
    const hosts = [
      { name: 'svc', address: SERVICES_IP },
      ...Array.from({ length: this.options.boards }, (_, i) => ({
        name: `b${i + 1}`,
        address: `192.168.0.${i + 2}`,
      })),
    ];
    for (const [i, h] of hosts.entries()) {
      const ns = `${this.prefix}-${h.name}`;
      await ip('netns', 'add', ns);
      this.namespaces.push(ns);
      await ip('link', 'add', `p${i}`, 'netns', net, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('-n', net, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      // The router is the gateway: a visor's local_ip is the first address of its default-route interface.
      if (h.name !== 'svc') await ip('-n', ns, 'route', 'add', 'default', 'via', SERVICES_IP);
    }
  }

  private spawnIn(
    ns: string,
    cwd: string,
    log: string,
    args: string[],
    cmd = this.options.binary,
  ): ChildProcess {
    return spawnIn(ns, cwd, join(this.dir, log), cmd, args);
  }

  private async startServices(): Promise<void> {
    this.services = await SkywireServices.start({
      binary: this.options.binary,
      ns: `${this.prefix}-svc`,
      address: SERVICES_IP,
      dir: join(this.dir, 'svc'),
      ...(this.options.uptimeTracker !== undefined ? { uptimeTracker: this.options.uptimeTracker } : {}),
    });
  }

  /** Waits until something accepts TCP connections at host:port inside the namespace. */
  waitTcp(ns: string, host: string, port: number, what: string, timeoutMs = 30_000): Promise<void> {
    return waitTcp(ns, host, port, what, timeoutMs);
  }

  /** Each board's namespace and folder, for visors the firmware sets up itself. */
  private async folders(): Promise<void> {
    for (let n = 1; n <= this.options.boards; n++) {
      const dir = join(this.dir, `b${n}`);
      await mkdir(dir, { recursive: true });
      const ns = `${this.prefix}-b${n}`;
      this.boards.push({
        board: n,
        ns,
        ip: `192.168.0.${n + 1}`,
        dir,
        keys: { pk: '', sk: '' },
        config: join(dir, 'skywire.json'),
        visor: null,
      });
    }
  }

  /** A skywire command line inside board n's namespace (for the firmware's own visor host). */
  wrapFor(n: number): string[] {
    return ['ip', 'netns', 'exec', this.board(n).ns];
  }

  /** The hypervisor's password file, as board 1's firmware keeps it. */
  get passwordFile(): string {
    return join(this.board(1).dir, PASSWORD_FILE);
  }

  /**
   * Board n's visor as the firmware runs it (`skyminer agent`'s hardware, for the simulator's `visors`): the
   * lab's binary in the board's namespace and folder, the services here, short restart timings.
   */
  firmwareVisor(n: number): BoardVisorHardware {
    return {
      host: new SkywireHost({
        binary: this.options.binary,
        dir: this.board(n).dir,
        servicesFile: this.servicesFile,
        wrap: this.wrapFor(n),
        disableApps: ALL_APPS,
      }),
      hypervisor: { url: this.hypervisorUrl, passwordFile: this.passwordFile },
      policy: { ...DEFAULT_VISOR_POLICY, backoffMs: 1000 },
      probeEveryMs: 2000,
    };
  }

  /** Where the services file the lab's services answer at is (the image ships upstream's). */
  get servicesFile(): string {
    if (!this.services) throw new Error('the lab has no services yet');
    return this.services.servicesFile;
  }

  private async configure(): Promise<void> {
    for (let n = 1; n <= this.options.boards; n++) {
      const ns = `${this.prefix}-b${n}`;
      const dir = join(this.dir, `b${n}`);
      await mkdir(join(dir, 'bin'), { recursive: true });
      // The apps' bin_path: the visor starts its apps from there.
      await symlink(this.options.binary, join(dir, 'bin', 'skywire'));
      const keys = await generateKeys(this.tool(ns, dir));
      this.boards.push({
        board: n,
        ns,
        ip: `192.168.0.${n + 1}`,
        dir,
        keys,
        config: join(dir, 'skywire.json'),
        visor: null,
      });
    }
    const hv = this.boards[0]!;
    for (const b of this.boards) {
      await makeVisorConfig(
        this.tool(b.ns, b.dir),
        {
          role: b === hv ? 'hypervisor' : 'visor',
          keys: b.keys,
          ...(b === hv ? {} : { hypervisorPk: hv.keys.pk }),
          servicesFile: this.servicesFile,
          out: b.config,
          disableApps: ALL_APPS,
        },
        b.dir,
      );
    }
  }

  board(n: number): LabBoard {
    const b = this.boards[n - 1];
    if (!b) throw new Error(`no board ${n} in the lab`);
    return b;
  }

  /** Starts board n's visor, from the lab's binary or another one (a visor bundle's). */
  startVisor(n: number, binary = this.options.binary): ChildProcess {
    const b = this.board(n);
    b.visor = this.spawnIn(b.ns, b.dir, `visor-b${n}.log`, ['visor', '-c', b.config], binary);
    return b.visor;
  }

  /** Stops board n's visor and waits until the process has gone. */
  async stopVisor(n: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const b = this.board(n);
    await stopProcess(b.visor, signal);
    b.visor = null;
  }

  async log(name: string): Promise<string> {
    return readFile(join(this.dir, name), 'utf8').catch(() => '');
  }

  /** A loopback port in this process forwarded to the hypervisor's :8000 in board 1's namespace. */
  private async forward(): Promise<void> {
    const hv = this.board(1);
    const sock = join(this.dir, 'hypervisor.sock');
    const script = `const net=require('net');net.createServer(c=>{const t=net.connect(8000,${JSON.stringify(hv.ip)});c.pipe(t);t.pipe(c);c.on('error',()=>t.destroy());t.on('error',()=>c.destroy());c.on('close',()=>t.destroy());t.on('close',()=>c.destroy())}).listen(${JSON.stringify(sock)})`;
    this.nsForwarder = spawn('ip', ['netns', 'exec', hv.ns, process.execPath, '-e', script], {
      stdio: 'ignore',
    });
    // A Node start inside the namespace: seconds on a loaded host. Without it every request would fail.
    for (const deadline = Date.now() + 60_000; ;) {
      const ok = await new Promise<boolean>((r) => {
        const s = createConnection(sock, () => {
          s.destroy();
          r(true);
        }).on('error', () => r(false));
      });
      if (ok) break;
      if (Date.now() > deadline || this.nsForwarder.exitCode !== null)
        throw new Error("the lab's forwarder to the hypervisor did not listen within 60 s");
      await sleep(100);
    }
    this.forwardServer = createServer((c) => {
      const t = createConnection(sock);
      this.sockets.add(c);
      c.pipe(t);
      t.pipe(c);
      const end = () => {
        c.destroy();
        t.destroy();
        this.sockets.delete(c);
      };
      c.on('error', end).on('close', end);
      t.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.forwardServer!.listen(0, '127.0.0.1', r));
    const a = this.forwardServer.address() as { port: number };
    this.hypervisorUrl = `http://127.0.0.1:${a.port}`;
  }

  /** The hypervisor's `/api/ping` answer; a request that hangs (a starved hypervisor) fails after 10 s. */
  ping(): Promise<string> {
    return fetch(`${this.hypervisorUrl}/api/ping`, { signal: AbortSignal.timeout(10_000) }).then((r) =>
      r.text(),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.forwardServer ? this.forwardServer.close(() => r()) : r()));
    await stopProcess(this.nsForwarder);
    await Promise.all(this.boards.map((b) => stopProcess(b.visor)));
    await this.services?.stop();
    for (const ns of this.namespaces.reverse()) await ip('netns', 'del', ns).catch(() => undefined);
    if (!process.env.KEEP_SKYWIRE_LAB) await rm(this.dir, { recursive: true, force: true });
  }
}
