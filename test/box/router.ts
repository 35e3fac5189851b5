// The box's router seat on the QEMU box's LAN, with Skywire's deployment services behind it: a network namespace
// this test makes, whose one interface (a tap at 192.168.0.1, the box's gateway) is a port of the LAN hub. A
// QEMU with no machine (`-M none`) joins the two, its tap and a `-netdev stream` to the hub's unix socket on one
// QEMU hub, so the frames the boards send reach the namespace and back, and nothing reaches the host's own network.
// The services (real and offline, test/skywire/services.ts) answer at 192.168.0.1, and their services file goes
// into the image the boards boot, so every board's visor finds the dmsg network on the box's own LAN.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SkywireServices, stopProcess } from '../skywire/services.js';
import type { Lan } from './lan.js';

const run = promisify(execFile);
const ROUTER_IP = '192.168.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RouterOptions {
  lan: Lan;
  /** The host's skywire binary (the services run from it). */
  binary: string;
  /** Scratch folder: the hub's socket, logs, the services' keys and files. */
  dir: string;
}

export class BoxRouter {
  private bridge: ChildProcess | null = null;
  private services: SkywireServices | null = null;

  private constructor(
    readonly ns: string,
    readonly dir: string,
  ) {}

  static async start(o: RouterOptions): Promise<BoxRouter> {
    await mkdir(o.dir, { recursive: true });
    const router = new BoxRouter(`skybox${process.pid % 100000}`, o.dir);
    try {
      await router.up(o);
    } catch (err) {
      await router.stop();
      throw err;
    }
    return router;
  }

  /** The services file pointing at the services behind the router (for `--skywire-services`). */
  get servicesFile(): string {
    if (!this.services) throw new Error('the router has no services');
    return this.services.servicesFile;
  }

  private async up(o: RouterOptions): Promise<void> {
    await run('ip', ['netns', 'add', this.ns]);
    const hub = join(o.dir, 'lan.sock');
    await o.lan.listenUnix(hub);
    const log = join(o.dir, 'bridge.log');
    this.bridge = spawn(
      'sh',
      [
        '-c',
        'exec "$@" >>"$0" 2>&1',
        log,
        'ip',
        'netns',
        'exec',
        this.ns,
        'qemu-system-aarch64',
        '-M',
        'none',
        '-nographic',
        '-nodefaults',
        '-netdev',
        `stream,id=lan,server=off,addr.type=unix,addr.path=${hub}`,
        '-netdev',
        'tap,id=router,ifname=lan0,script=no,downscript=no',
        '-netdev',
        'hubport,id=p0,hubid=0,netdev=lan',
        '-netdev',
        'hubport,id=p1,hubid=0,netdev=router',
      ],
      { stdio: 'ignore' },
    );
    // The tap exists once QEMU has opened it.
    for (let i = 0; ; i++) {
      const ok = await run('ip', ['-n', this.ns, 'link', 'show', 'lan0']).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (i > 150 || this.bridge.exitCode !== null)
        throw new Error(
          `the router's bridge did not make its tap: ${await readFile(log, 'utf8').catch(() => '')}`,
        );
      await sleep(100);
    }
    await run('ip', ['-n', this.ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', this.ns, 'addr', 'add', `${ROUTER_IP}/24`, 'dev', 'lan0']);
    await run('ip', ['-n', this.ns, 'link', 'set', 'lan0', 'up']);
    this.services = await SkywireServices.start({
      binary: o.binary,
      ns: this.ns,
      address: ROUTER_IP,
      dir: join(o.dir, 'services'),
    });
  }

  async stop(): Promise<void> {
    await this.services?.stop();
    await stopProcess(this.bridge);
    await run('ip', ['netns', 'del', this.ns]).catch(() => undefined);
  }
}
