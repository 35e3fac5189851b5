// The box's switch, as a hub on loopback: every QEMU board connects its NIC with `-netdev socket,connect=`, and
// each Ethernet frame one board sends reaches every other board. QEMU's socket netdev frames each packet with a
// 4-byte big-endian length. Nothing here talks to any address but 127.0.0.1, and the boards' own addresses
// (192.168.0.x) exist only inside the frames, so nothing the boards send can leave the host.
import { createServer, type Server, type Socket } from 'node:net';

export interface Frame {
  from: number;
  bytes: Buffer;
  atMs: number;
}

export class Lan {
  private readonly ports = new Set<{ id: number; socket: Socket }>();
  private nextId = 1;
  /** Frames seen, counted per connection, for the tests' diagnostics. */
  frames = 0;
  private tap: ((frame: Frame) => void) | undefined;

  private readonly extra: Server[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Lan> {
    const server = createServer();
    await listen(server, { port: 0, host: '127.0.0.1' });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('LAN hub: no TCP port');
    const lan = new Lan(server, address.port);
    server.on('connection', (socket) => lan.attach(socket));
    return lan;
  }

  /**
   * Also takes ports at a unix socket, framed the same way (QEMU's `-netdev stream`): for a port whose QEMU runs
   * in a network namespace, where the host's loopback is not its own.
   */
  async listenUnix(path: string): Promise<void> {
    const server = createServer((socket) => this.attach(socket));
    await listen(server, { path });
    this.extra.push(server);
  }

  /** What a board's QEMU is given for its NIC. */
  netdev(id: string): string {
    return `socket,id=${id},connect=127.0.0.1:${this.port}`;
  }

  /** Sees every frame (for a test that must watch the wire). */
  onFrame(tap: ((frame: Frame) => void) | undefined): void {
    this.tap = tap;
  }

  private attach(socket: Socket): void {
    const port = { id: this.nextId++, socket };
    this.ports.add(port);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (pending.length < 4 + length) break;
        const record = pending.subarray(0, 4 + length);
        pending = pending.subarray(4 + length);
        this.frames++;
        this.tap?.({ from: port.id, bytes: record.subarray(4), atMs: Date.now() });
        // A hub: every other board gets the frame as it was framed (length included).
        for (const other of this.ports)
          if (other !== port && !other.socket.destroyed) other.socket.write(record);
      }
    });
    // A board switched off drops its connection; the next power-on connects afresh.
    const drop = (): void => {
      this.ports.delete(port);
    };
    socket.on('close', drop);
    socket.on('error', drop);
  }

  async close(): Promise<void> {
    for (const p of this.ports) p.socket.destroy();
    this.ports.clear();
    for (const server of [this.server, ...this.extra])
      await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listen(server: Server, at: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, () => resolve());
  });
}
