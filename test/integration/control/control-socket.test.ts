import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CancelledError,
  ControlClient,
  ControlRequestError,
  ControlUnavailableError,
} from '../../../firmware/control/client.js';
import { LineSplitter, parseRequest } from '../../../firmware/control/protocol.js';
import { ControlServer, type ControlServerOptions } from '../../../firmware/control/server.js';
import { groupId } from '../../../firmware/control/socket-access.js';
import type { ControlSources } from '../../../firmware/control/sources.js';
import type { SupervisorEvent } from '../../../firmware/supervisor/event-log.js';
import type { BoardOperation, SupervisorOperator } from '../../../firmware/supervisor/operator.js';
import type { BoxView } from '../../../firmware/supervisor/view.js';

/** A supervisor stand-in with four boards that records what it was asked. */
class FakeOperator implements SupervisorOperator {
  readonly asked: { board: number; operation: BoardOperation; by: string }[] = [];
  private readonly listeners = new Set<(e: SupervisorEvent) => void>();
  readonly events: SupervisorEvent[] = [
    { t: 0.1, board: 2, event: 'power-on' },
    { t: 0.2, board: 3, event: 'up' },
  ];
  view(): BoxView {
    return {
      at: 1,
      boards: [1, 2, 3, 4].map((board) => ({
        board,
        role: board === 1 ? ('manager' as const) : ('worker' as const),
        status: 'up' as const,
        forS: 10,
      })),
    };
  }
  async operate(board: number, operation: BoardOperation, by: string) {
    this.asked.push({ board, operation, by });
    if (board === 1)
      return { ok: false, message: 'board 1 has no power or reset line (board 1 is the manager)' };
    return { ok: true, message: `board ${board} ${operation}` };
  }
  recentEvents(filter: { board?: number; limit?: number } = {}) {
    const m = this.events.filter((e) => filter.board === undefined || e.board === filter.board);
    return m.slice(-(filter.limit ?? m.length));
  }
  onEvent(listener: (e: SupervisorEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: SupervisorEvent): void {
    for (const l of this.listeners) l(e);
  }
}

let server: ControlServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(
  sources: ControlSources = {},
  etcGroup?: string,
  limits: Partial<ControlServerOptions> = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'control-'));
  const path = join(dir, 'control.sock');
  const operator = new FakeOperator();
  if (etcGroup !== undefined) await writeFile(join(dir, 'group'), etcGroup);
  server = new ControlServer(operator, sources, {
    path,
    group: etcGroup === undefined ? null : 'skyminer',
    etcGroup: join(dir, 'group'),
    ...limits,
  });
  await server.listen();
  return { path, operator, client: new ControlClient(path), dir };
}

/** Sends raw bytes and collects the answer lines until `count` arrived. */
function raw(path: string, data: string | Buffer, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    const socket = createConnection(path);
    const splitter = new LineSplitter(1 << 20, (l) => {
      lines.push(l);
      if (lines.length === count) {
        socket.destroy();
        resolve(lines);
      }
    }, () => reject(new Error('too long'))); // prettier-ignore
    socket.on('data', (c) => splitter.push(c));
    socket.on('error', reject);
    socket.write(data);
  });
}

/** A connection whose bytes and end are observed; it never closes its own side by itself. */
function connect(path: string): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = createConnection({ path, allowHalfOpen: true });
    // Closed as far as the server goes: it ended or reset its side.
    const closed = new Promise<void>((r) => {
      socket.on('end', () => r());
      socket.on('close', () => r());
    });
    socket.on('data', (c) => (text += c.toString()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

const until = async (what: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('control socket: a client cannot use it up', () => {
  it('closes a turned-away connection on its side, even when the client keeps its own open', async () => {
    const { path } = await serve({}, undefined, { maxConnections: 2 });
    const busy = await Promise.all([connect(path), connect(path)]);
    // Both busy: each follows, so neither may be closed to make room.
    for (const c of busy) c.socket.write('{"id":1,"method":"follow"}\n');
    await until(() => busy.every((c) => c.text().includes('following')));
    const third = await connect(path);
    await third.closed;
    expect(JSON.parse(third.text())).toMatchObject({
      ok: false,
      error: 'too many control connections; try again',
    });
    for (const c of busy) c.socket.destroy();
  });

  it('makes room for an operator by closing the connection idle longest', async () => {
    const { path, client } = await serve({}, undefined, { maxConnections: 16 });
    const idle = await Promise.all(Array.from({ length: 16 }, () => connect(path)));
    expect((await client.request<{ boards: number }>({ method: 'hello' })).boards).toBe(4);
    await idle[0]!.closed;
    for (const c of idle) c.socket.destroy();
  });

  it('closes a connection idle past the idle time', async () => {
    const { path } = await serve({}, undefined, { idleMs: 200 });
    const c = await connect(path);
    await c.closed;
    expect(c.text()).toBe('');
  });

  it('stops reading a client that does not read its answers, and serves others meanwhile', async () => {
    const { path, client } = await serve({}, undefined, { maxUnreadBytes: 64 * 1024 });
    const c = await connect(path);
    c.socket.pause();
    const line = '{"id":1,"method":"view"}\n';
    // Far more answers than the limit lets the server hold for it.
    for (let i = 0; i < 200; i++) c.socket.write(line.repeat(100));
    await new Promise((r) => setTimeout(r, 300));
    expect(c.socket.destroyed).toBe(false);
    expect((await client.request<{ boards: number }>({ method: 'hello' })).boards).toBe(4);
    // Reading again, the client gets every answer.
    let answers = 0;
    c.socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) answers++;
    });
    c.socket.resume();
    await until(() => answers === 20_000, 20_000);
    c.socket.destroy();
  }, 30_000);

  it('drops a follower that leaves its events unread past the limit', async () => {
    const { path, operator } = await serve({}, undefined, { maxUnreadBytes: 16 * 1024 });
    const c = await connect(path);
    c.socket.write('{"id":1,"method":"follow"}\n');
    await until(() => c.text().includes('following'));
    c.socket.pause();
    for (let i = 0; i < 20_000; i++) operator.emit({ t: i, board: 2, event: 'up', pad: 'x'.repeat(100) });
    c.socket.resume();
    await c.closed;
    // What the server held for it before dropping it: about the limit, not the 2.6 MB of events.
    expect(c.text().length).toBeLessThan(200_000);
  });

  it('caps the follows of one connection, and follows only boards that exist', async () => {
    const { path } = await serve({}, undefined, { maxFollows: 2 });
    const lines = await raw(
      path,
      ['{"id":1,"method":"follow"}', '{"id":2,"method":"follow","board":2}', '{"id":3,"method":"follow"}',
        '{"id":4,"method":"follow","board":9}'].join('\n') + '\n', // prettier-ignore
      4,
    );
    const answers = lines.map((l) => JSON.parse(l) as { id: number; ok: boolean; error?: string });
    expect(answers.map((a) => [a.id, a.ok, a.error])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, false, 'at most 2 follows per connection'],
      [4, false, 'at most 2 follows per connection'],
    ]);
    const more = await raw(path, '{"id":5,"method":"follow","board":9}\n', 1);
    expect(JSON.parse(more[0]!)).toMatchObject({ id: 5, ok: false, error: 'no board 9; boards are 1 to 4' });
  });

  it('answers a request whose sender shut its side, and one without a final newline', async () => {
    const { path } = await serve();
    const c = await connect(path);
    c.socket.end(
      '{"id":1,"method":"hello"}\n{"id":2,"method":"operate","board":3,"operation":"on","by":"x"}',
    );
    await c.closed;
    const answers = c
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; ok: boolean });
    expect(answers.map((a) => [a.id, a.ok])).toEqual([
      [1, true],
      [2, true],
    ]);
  });

  it('closes every connection, turned away or not, when it stops', async () => {
    const { path } = await serve({}, undefined, { maxConnections: 1 });
    const held = await connect(path);
    held.socket.write('{"id":1,"method":"follow"}\n');
    await until(() => held.text().includes('following'));
    const away = await connect(path);
    await until(() => away.text().includes('too many'));
    const stops = server!.close();
    await held.closed;
    await away.closed;
    await stops;
    server = undefined;
  });
});

describe('control socket', () => {
  it('serves the view, events and operations, naming who asked by the peer credentials', async () => {
    const { client, operator } = await serve();
    expect((await client.request<BoxView>({ method: 'view' })).boards).toHaveLength(4);
    expect(await client.request({ method: 'events', board: 3 })).toEqual([{ t: 0.2, board: 3, event: 'up' }]);
    expect(
      await client.request({ method: 'operate', board: 3, operation: 'reset', by: 'console:ttyS0' }),
    ).toEqual({
      ok: true,
      message: 'board 3 reset',
    });
    // Who asked is what the kernel says of the peer (this process here), the client's claim after it.
    expect(operator.asked).toEqual([
      { board: 3, operation: 'reset', by: `uid=${process.getuid!()} pid=${process.pid} (console:ttyS0)` },
    ]);
    expect(await client.request({ method: 'hello' })).toEqual({
      product: 'skyminer',
      protocol: 1,
      boards: 4,
    });
  });

  it('makes the socket usable by root and the skyminer group only', async () => {
    const { path } = await serve({}, 'root:x:0:\nskyminer:x:1234:alice\n');
    const s = await stat(path);
    expect(s.isSocket()).toBe(true);
    expect(s.mode & 0o777).toBe(0o660);
    if (process.getuid?.() === 0) expect(s.gid).toBe(1234);
    expect(groupId('wheel:x:10:\nskyminer:x:99:\n', 'skyminer')).toBe(99);
    expect(groupId('wheel:x:10:\n', 'skyminer')).toBeNull();
  });

  it('answers every bad request with one error line and keeps the connection', async () => {
    const { path } = await serve();
    const lines = await raw(
      path,
      [
        'not json',
        '{"id":1,"method":"reboot"}',
        '{"id":2,"method":"operate","board":3,"operation":"explode","by":"x"}',
        '{"id":3,"method":"operate","board":0,"operation":"reset","by":"x"}',
        '{"id":4,"method":"operate","board":3,"operation":"reset","by":"two words"}',
        '{"id":5,"method":"view","extra":1}',
        '[1,2,3]',
        '{"id":6,"method":"operate","board":9,"operation":"reset","by":"x"}',
        '{"id":7,"method":"hello"}',
      ].join('\n') + '\n',
      9,
    );
    const answers = lines.map(
      (l) => JSON.parse(l) as { id: number | null; ok: boolean; code?: string; error?: string },
    );
    expect(answers.slice(0, 8).map((a) => [a.id, a.code, a.error])).toEqual([
      [null, 'bad-request', 'not JSON: expected one JSON object per line'],
      [
        1,
        'bad-request',
        'unknown method; methods: hello, view, events, follow, operate, disks, rewards, reward-address, skywire, hypervisor-password, panel, config, attach, update',
      ],
      [2, 'bad-request', 'operation: Invalid option: expected one of "on"|"off"|"reset"|"cycle"|"release"'],
      [3, 'bad-request', 'board: Too small: expected number to be >=1'],
      [4, 'bad-request', 'by: expected printable text without spaces'],
      [5, 'bad-request', 'unknown key extra'],
      [null, 'bad-request', 'not an object: expected one JSON object per line'],
      [6, 'usage', 'no board 9; boards are 1 to 4'],
    ]);
    expect(answers[8]).toMatchObject({ id: 7, ok: true });
  });

  it('refuses a line longer than 64 KiB without buffering it, and goes on serving', async () => {
    const { path } = await serve();
    const huge = Buffer.alloc(200_000, 0x41);
    const lines = await raw(path, Buffer.concat([huge, Buffer.from('\n{"id":2,"method":"hello"}\n')]), 2);
    expect(JSON.parse(lines[0]!)).toEqual({
      id: null,
      ok: false,
      code: 'bad-request',
      error: 'request longer than 65536 bytes',
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ id: 2, ok: true });
  });

  it('checks a reward address before handing it to the rewards service', async () => {
    const chosen: string[] = [];
    const { client } = await serve({
      setRewardAddress: (address) => {
        chosen.push(address);
        return Promise.resolve({ boards: [], box: {} } as never);
      },
    });
    await expect(
      client.request({ method: 'reward-address', address: '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os7' }),
    ).rejects.toEqual(
      new ControlRequestError(
        'usage',
        'not a Skycoin address: its checksum does not match (a mistyped character?)',
      ),
    );
    expect(chosen).toEqual([]);
    await client.request({ method: 'reward-address', address: ' 2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6 ' });
    expect(chosen).toEqual(['2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6']);
    await expect(client.request({ method: 'skywire' })).rejects.toThrow(
      'Skywire data is not available on this box',
    );
  });

  it("checks a new hypervisor password against the hypervisor's rules before handing it on", async () => {
    const set: string[] = [];
    const { client } = await serve({
      hypervisorPassword: {
        show: () => Promise.resolve('Skyminer-old1'),
        set: (p) => {
          set.push(p);
          return p === 'Refused-byHV2'
            ? Promise.reject(new Error('new password refused'))
            : Promise.resolve();
        },
      },
    });
    expect(await client.request({ method: 'hypervisor-password', action: 'show' })).toEqual({
      password: 'Skyminer-old1',
    });
    await expect(
      client.request({ method: 'hypervisor-password', action: 'set', password: 'skywire' }),
    ).rejects.toEqual(
      new ControlRequestError(
        'usage',
        'the password needs an upper-case letter, a lower-case letter, a digit and a symbol',
      ),
    );
    await expect(client.request({ method: 'hypervisor-password', action: 'set' })).rejects.toEqual(
      new ControlRequestError('usage', 'name the new password'),
    );
    expect(set).toEqual([]);
    await expect(
      client.request({ method: 'hypervisor-password', action: 'set', password: 'Refused-byHV2' }),
    ).rejects.toEqual(new ControlRequestError('failed', 'hypervisor-password failed: new password refused'));
    expect(
      await client.request({ method: 'hypervisor-password', action: 'set', password: 'Nouveau-pass2' }),
    ).toEqual({ changed: true });
    expect(set).toEqual(['Refused-byHV2', 'Nouveau-pass2']);
  });

  it('says when a source is not available, and serves it when it is', async () => {
    const { client } = await serve();
    await expect(client.request({ method: 'disks' })).rejects.toEqual(
      new ControlRequestError('not-available', 'disk data is not available on this box'),
    );
    await expect(client.request({ method: 'hypervisor-password', action: 'show' })).rejects.toEqual(
      new ControlRequestError('not-available', "the hypervisor's password is not available on this box"),
    );
    await expect(client.request({ method: 'panel', action: 'dim' })).rejects.toThrow(
      'the front panel is not available',
    );
    await server!.close();

    const pinned: (string | null)[] = [];
    const { client: c2 } = await serve({
      panel: {
        pin: (n) => void pinned.push(n),
        pages: () => ['overview', 'rewards'],
        dim: () => {},
        off: () => {},
        on: () => {},
        snapshot: () => Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      },
      disks: () => [],
    });
    expect(await c2.request({ method: 'disks' })).toEqual([]);
    expect(await c2.request({ method: 'panel', action: 'page', page: 'rewards' })).toEqual({
      pinned: 'rewards',
    });
    await expect(c2.request({ method: 'panel', action: 'page', page: 'nope' })).rejects.toEqual(
      new ControlRequestError('usage', 'no panel page "nope"; pages: overview, rewards'),
    );
    expect(await c2.request({ method: 'panel', action: 'snapshot' })).toEqual({ png_base64: 'iVBORw==' });
    expect(pinned).toEqual(['rewards']);
  });

  it('reports a failed operation as failed, with the supervisor’s own words', async () => {
    const { client } = await serve();
    await expect(
      client.request({ method: 'operate', board: 1, operation: 'off', by: 'cli:uid=0' }),
    ).rejects.toEqual(
      new ControlRequestError('failed', 'board 1 has no power or reset line (board 1 is the manager)'),
    );
  });

  it('streams new events to a follower until it stops', async () => {
    const { client, operator } = await serve();
    const seen: SupervisorEvent[] = [];
    const abort = new AbortController();
    const following = client.follow(3, (e) => seen.push(e), abort.signal);
    await new Promise((r) => setTimeout(r, 50));
    operator.emit({ t: 1, board: 2, event: 'up' });
    operator.emit({ t: 2, board: 3, event: 'no-contact' });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await following;
    expect(seen).toEqual([{ t: 2, board: 3, event: 'no-contact' }]);
  });

  it('stops following at once when Ctrl-C comes while the connection is still being made', async () => {
    const { client } = await serve();
    const abort = new AbortController();
    const following = client.follow(undefined, () => {}, abort.signal);
    abort.abort();
    await expect(following).resolves.toBeUndefined();
    const asking = new AbortController();
    const request = client.request({ method: 'view' }, { signal: asking.signal });
    asking.abort();
    await expect(request).rejects.toBeInstanceOf(CancelledError);
  });

  it('tells a supervisor that is not running from one that refused, and a cancelled wait', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'control-'));
    const missing = new ControlClient(join(dir, 'none.sock'));
    await expect(missing.request({ method: 'view' })).rejects.toEqual(
      new ControlUnavailableError(`supervisor not running: no control socket at ${join(dir, 'none.sock')}`),
    );
    const { client } = await serve();
    const abort = new AbortController();
    abort.abort();
    await expect(client.request({ method: 'view' }, { signal: abort.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });

  it('replaces a stale socket file but never another file, nor a live server', async () => {
    const { path, dir } = await serve();
    const second = new ControlServer(new FakeOperator(), {}, { path, group: null });
    await expect(second.listen()).rejects.toThrow('another supervisor is already serving it');
    const file = join(dir, 'plain');
    await writeFile(file, 'keep me');
    await expect(
      new ControlServer(new FakeOperator(), {}, { path: file, group: null }).listen(),
    ).rejects.toThrow('a file that is not a socket is in the way');
  });

  it('parses a request line into exactly one of the methods', () => {
    expect(parseRequest('{"id":1,"method":"events","board":2,"limit":5}')).toEqual({
      ok: true,
      request: { id: 1, method: 'events', board: 2, limit: 5 },
    });
  });
});
