// A small QMP client (QEMU's JSON machine protocol) on the unix socket each board's QEMU opens: the harness
// stops, resumes and resets boards with it and reads the manager's GPIO registers through it.
import { connect, type Socket } from 'node:net';

/** An asynchronous QMP event (RESET, WATCHDOG, STOP, RESUME...), with the host time it arrived. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  atMs: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class Qmp {
  private buffer = '';
  private readonly queue: Pending[] = [];
  private closed = false;
  private readonly greeting: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly onEvent: (event: QmpEvent) => void,
  ) {
    socket.setEncoding('utf8');
    let greeted: () => void = () => undefined;
    this.greeting = new Promise((resolve) => {
      greeted = resolve;
    });
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as {
          QMP?: unknown;
          return?: unknown;
          error?: { desc: string };
          event?: string;
          data?: Record<string, unknown>;
        };
        if (msg.QMP) greeted();
        else if ('return' in msg) this.queue.shift()?.resolve(msg.return);
        else if (msg.error) this.queue.shift()?.reject(new Error(`QMP: ${msg.error.desc}`));
        // Events tell what QEMU itself did to the machine (a watchdog's reset, a guest reboot).
        else if (msg.event)
          this.onEvent({ event: msg.event, ...(msg.data ? { data: msg.data } : {}), atMs: Date.now() });
      }
    });
    const fail = (): void => {
      this.closed = true;
      for (const p of this.queue.splice(0)) p.reject(new Error('QMP: QEMU closed the socket'));
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  /** Connects (retrying while QEMU creates the socket) and enters command mode. */
  static async connect(
    path: string,
    onEvent: (event: QmpEvent) => void = () => undefined,
    timeoutMs = 10_000,
  ): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const qmp = new Qmp(socket, onEvent);
        await qmp.greeting;
        await qmp.execute('qmp_capabilities');
        return qmp;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`QMP ${path}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('QMP: QEMU closed the socket'));
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      this.socket.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) }) + '\n');
    });
  }

  /** A human monitor command (such as `xp`), answered as text. */
  async hmp(commandLine: string): Promise<string> {
    return String(await this.execute('human-monitor-command', { 'command-line': commandLine }));
  }

  async status(): Promise<string> {
    return ((await this.execute('query-status')) as { status: string }).status;
  }

  close(): void {
    this.socket.destroy();
  }
}
