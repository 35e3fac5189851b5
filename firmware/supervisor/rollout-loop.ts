// The manager's side of a box-wide update: takes a bundle (a file on the manager or a URL), a firmware bundle or a
// visor bundle told apart by their first bytes, checks it whole before any board hears of it, keeps it on the data partition and serves it to the boards over HTTP, and runs the
// rollout decision (update/rollout.ts) on every tick, performing its orders through the supervisor: orders and
// commits over the authenticated channel, reboots as restarts the supervisor expects. The rollout's state is saved
// beside the supervisor's, so a manager that restarts (its own update reboots it) carries on where it was.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { loadJsonFile, writeFileAtomic } from '../lib/files.js';
import { compareVersions as compareVisorVersions } from '../lib/skywire-version.js';
import { BUNDLE_MAGIC, BundleRefused, readBundle, type BundlePolicy } from '../update/bundle.js';
import { unpackVisorBundle, VISOR_BUNDLE_MAGIC, type VisorArch } from '../update/visor-bundle.js';
import {
  DEFAULT_ROLLOUT_LIMITS,
  planRollout,
  rolloutSchema,
  RolloutRefused,
  stepRollout,
  stopRollout,
  type Rollout,
  type RolloutAction,
  type RolloutKind,
  type RolloutLimits,
} from '../update/rollout.js';
import type { Supervisor } from './supervisor.js';

export interface RolloutLoopOptions {
  supervisor: Supervisor;
  /** Where the rollout and its bundle are kept (the supervisor's state directory, on the data partition). */
  dir: string;
  /** The manager's own view of a bundle: trusted keys, its profile, its running version. */
  policy: () => Promise<BundlePolicy>;
  /** The box's visor architecture (Go's name): a visor bundle for another is refused. None: no visor bundles. */
  visorArch?: VisorArch;
  /** Where the bundle is served to the boards (the manager's address on the box's network; port 0: any). */
  serve: { host: string; port: number };
  limits?: RolloutLimits;
  tickMs?: number;
  logger?: Logger;
}

export type RolloutAnswer = { ok: true; message: string } | { ok: false; message: string };

const BUNDLE = 'rollout.bundle';
const STATE = 'rollout.json';

/** The phases of a board doing an update's heavy work, when its heartbeats may lag. */
const BUSY: ReadonlySet<string> = new Set(['ordered', 'installing', 'committing']);

export class RolloutLoop {
  private rollout: Rollout | undefined;
  private timer: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  private busy = false;
  /** The boards the supervisor was told are installing. */
  private installing = new Set<number>();
  private starting = false;
  private stopped = false;
  private readonly logger: Logger;

  constructor(private readonly o: RolloutLoopOptions) {
    this.logger = o.logger ?? silentLogger;
  }

  /** Reads a saved rollout: one under way goes on (its bundle served again). */
  async start(): Promise<void> {
    const loaded = await loadJsonFile(join(this.o.dir, STATE), rolloutSchema);
    if (loaded.status === 'ok') this.rollout = loaded.data;
    else if (loaded.status === 'corrupt')
      this.logger.warn(`rollout state: ${loaded.problem}; set aside as ${loaded.aside ?? '(not moved)'}`);
    if (this.rollout && !this.rollout.result) {
      this.logger.info(`update to ${this.rollout.version}: carrying on after a manager restart`);
      await this.run();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /** The current or last rollout. */
  status(): Rollout | undefined {
    return this.rollout;
  }

  /**
   * Starts a rollout of the bundle at `source` (a path on the manager, or an http(s) URL). The bundle is checked
   * whole first (signature, hashes, profile, version) against the manager's own keys: a refused bundle reaches no
   * board. Answers at once; the rollout runs on.
   */
  async begin(source: string, by: string): Promise<RolloutAnswer> {
    if (this.rollout && !this.rollout.result)
      return { ok: false, message: `an update to ${this.rollout.version} is under way; see update status` };
    if (this.starting) return { ok: false, message: 'an update is being started' };
    this.starting = true;
    try {
      await mkdir(this.o.dir, { recursive: true });
      const part = join(this.o.dir, `${BUNDLE}.part`);
      let intake: Intake;
      try {
        intake = await takeBundle(source, part, await this.o.policy(), this.o.visorArch);
      } catch (err) {
        await rm(part, { force: true });
        if (err instanceof BundleRefused)
          return { ok: false, message: `refused: ${err.message}; no board was touched` };
        return { ok: false, message: `${source}: ${oneLine(err)}; no board was touched` };
      }
      const id = randomBytes(8).toString('hex');
      let rollout: Rollout;
      try {
        rollout = planRollout(this.o.supervisor.boardsSeen(), {
          id,
          kind: intake.kind,
          version: intake.version,
          bundle: { sha256: intake.sha256, bytes: intake.bytes },
          now: Date.now(),
          by,
        });
      } catch (err) {
        await rm(part, { force: true });
        if (err instanceof RolloutRefused) return { ok: false, message: `refused: ${err.message}` };
        throw err;
      }
      await rename(part, join(this.o.dir, BUNDLE));
      this.rollout = rollout;
      await this.save();
      const order = rollout.boards.filter((b) => b.phase !== 'skipped').map((b) => b.board);
      const skipped = rollout.boards.filter((b) => b.phase === 'skipped');
      this.o.supervisor.note(0, 'rollout-start', {
        ...(rollout.kind === 'visor' ? { kind: 'visor' } : {}),
        version: rollout.version,
        by,
        order,
        ...(skipped.length ? { skipped: skipped.map((b) => b.board) } : {}),
      });
      await this.run();
      return {
        ok: true,
        message:
          `${rollout.kind === 'visor' ? `updating the visors to skywire ${rollout.version}` : `updating to ${rollout.version}`}, one board at a time: ${order.map((b) => `board ${b}`).join(', ')}` +
          (skipped.length ? `; skipped (not up): ${skipped.map((b) => `board ${b}`).join(', ')}` : ''),
      };
    } finally {
      this.starting = false;
    }
  }

  /** The owner stops the rollout: boards done keep their new firmware or visor, the others stay as they are. */
  async cancel(by: string): Promise<RolloutAnswer> {
    if (!this.rollout || this.rollout.result) return { ok: false, message: 'no update is under way' };
    const step = stopRollout(this.rollout, Date.now(), by);
    this.rollout = step.rollout;
    await this.perform(step.actions);
    await this.save();
    await this.idle();
    return { ok: true, message: `update to ${this.rollout.version} stopped` };
  }

  /** Serves the bundle and ticks until the rollout has a result. */
  private async run(): Promise<void> {
    if (!this.server) this.server = await this.serve();
    this.timer ??= setInterval(() => void this.tick(), this.o.tickMs ?? 500);
    void this.tick();
  }

  private async idle(): Promise<void> {
    // Ended or stopped by the owner: no board keeps the install's longer silence.
    for (const b of this.installing) this.o.supervisor.updateInstalling(b, false);
    this.installing = new Set();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  private async tick(): Promise<void> {
    const r = this.rollout;
    if (!r || this.busy || this.stopped) return;
    this.busy = true;
    try {
      const step = stepRollout(
        r,
        new Map(this.o.supervisor.boardsSeen().map((b) => [b.board, b])),
        Date.now(),
        this.o.limits ?? DEFAULT_ROLLOUT_LIMITS,
      );
      this.syncInstalling(step.rollout);
      if (step.rollout === r) return;
      this.rollout = step.rollout;
      // Saved before acting: a manager that reboots (its own update) must find the step it took.
      await this.save();
      await this.perform(step.actions);
      if (this.rollout.result) {
        await this.idle();
        await rm(join(this.o.dir, BUNDLE), { force: true });
      }
    } catch (err) {
      this.logger.error(`rollout: ${oneLine(err)}`);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Tells the supervisor which boards do an update's heavy work now, as they change: installing (unpacking,
   * hashing, writing a slot, then the boot switch) or committing their trial boot (the environment written again).
   * Their heartbeats may lag meanwhile; a board restarted in the middle loses the update, or its environment.
   */
  private syncInstalling(r: Rollout): void {
    const now = new Set(r.result ? [] : r.boards.filter((b) => BUSY.has(b.phase)).map((b) => b.board));
    for (const b of this.installing) if (!now.has(b)) this.o.supervisor.updateInstalling(b, false);
    for (const b of now) if (!this.installing.has(b)) this.o.supervisor.updateInstalling(b, true);
    this.installing = now;
  }

  private async perform(actions: RolloutAction[]): Promise<void> {
    const r = this.rollout!;
    const sup = this.o.supervisor;
    for (const a of actions) {
      switch (a.kind) {
        case 'log':
          sup.note(a.board, a.event, a.details);
          if (a.event === 'rollout-stopped')
            this.logger.error(
              `update to ${r.version} stopped at board ${a.board}: ${String(a.details?.reason)}`,
            );
          break;
        case 'order': {
          const port = this.port();
          if (port)
            sup.sendUpdate(a.board, 'update', {
              order: r.id,
              version: r.version,
              port,
              path: `/bundle/${r.id}`,
              ...(r.kind === 'visor' ? { kind: 'visor' as const } : {}),
            });
          break;
        }
        case 'commit':
          sup.sendUpdate(a.board, 'commit');
          break;
        case 'reboot':
          sup.updateReboot(a.board);
          break;
      }
    }
  }

  private port(): number | undefined {
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** The bundle, to anyone on the box's network who names this rollout: it is signed, the boards check it. */
  private serve(): Promise<Server> {
    const server = createServer((req, res) => {
      const r = this.rollout;
      if (req.method !== 'GET' || !r || r.result || req.url !== `/bundle/${r.id}`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': r.bundle.bytes });
      createReadStream(join(this.o.dir, BUNDLE))
        .on('error', () => res.destroy())
        .pipe(res);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.serve.port, this.o.serve.host, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private async save(): Promise<void> {
    if (!this.rollout) return;
    try {
      await writeFileAtomic(join(this.o.dir, STATE), JSON.stringify(this.rollout, null, 1) + '\n');
    } catch (err) {
      this.logger.error(`rollout state not saved: ${oneLine(err)}`);
    }
  }
}

interface Intake {
  kind: RolloutKind;
  version: string;
  sha256: string;
  bytes: number;
}

/**
 * Copies the bundle to `file` while checking all of it; its kind (by its first bytes), version, SHA-256 and size
 * once it is whole. A visor bundle is checked once copied: its signature against the manager's keys, every byte
 * of its binary, and its architecture against the box's.
 */
async function takeBundle(
  source: string,
  file: string,
  policy: BundlePolicy,
  visorArch: VisorArch | undefined,
): Promise<Intake> {
  const { head, rest } = await peek(await openSource(source), BUNDLE_MAGIC.length);
  const magic = head.subarray(0, BUNDLE_MAGIC.length);
  const kind: RolloutKind | null = magic.equals(BUNDLE_MAGIC)
    ? 'firmware'
    : magic.equals(VISOR_BUNDLE_MAGIC)
      ? 'visor'
      : null;
  if (!kind) throw new BundleRefused('not a bundle (neither SKYBNDL1 nor SKYVISR1 at its start)');
  if (kind === 'visor' && !visorArch)
    throw new BundleRefused(
      'a visor bundle, and this manager knows no visor architecture to check it against',
    );
  const hash = createHash('sha256');
  let bytes = 0;
  const out = await open(file, 'w');
  let firmware: string | undefined;
  try {
    async function* tee(): AsyncGenerator<Buffer> {
      for await (const chunk of rest()) {
        hash.update(chunk);
        bytes += chunk.length;
        await out.write(chunk);
        yield chunk;
      }
    }
    if (kind === 'firmware') firmware = (await readBundle(tee(), policy)).firmware;
    else for await (const _ of tee());
    await out.sync();
  } finally {
    await out.close();
  }
  const sha256 = hash.digest('hex');
  if (firmware !== undefined) return { kind, version: firmware, sha256, bytes };
  const binary = `${file}.skywire`;
  try {
    const m = await unpackVisorBundle(
      file,
      { keys: policy.keys, arch: visorArch!, runningVersion: null, compare: compareVisorVersions },
      binary,
    );
    return { kind, version: m.version, sha256, bytes };
  } finally {
    await rm(binary, { force: true });
  }
}

/** The first `n` bytes of a stream (fewer if it is shorter), and the whole stream again from its start. */
async function peek(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  n: number,
): Promise<{ head: Buffer; rest: () => AsyncGenerator<Buffer> }> {
  const it = input[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    seen.push(b);
    have += b.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* seen;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    }
  }
  return { head: Buffer.concat(seen), rest };
}

async function openSource(source: string): Promise<AsyncIterable<Buffer | Uint8Array | string>> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source);
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  const stream = createReadStream(source);
  await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  return stream;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
