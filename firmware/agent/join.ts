import { silentLogger, type Logger } from '../../drivers/logger.js';
import { newJoinKeyPair, openGrant, type GrantContents, type JoinKeyPair } from '../auth/join-seal.js';
import type { Datagrams, Peer } from '../protocol/datagrams.js';
import { decodeJoinAnswer, encodeJoin } from '../protocol/join.js';

/*
 * The board's side of zero-touch enrolment (firmware/supervisor/join-window.md): a board with no key and no box
 * secret draws an X25519 key pair for this boot, claims its slot from the manager until the manager answers with
 * its key sealed to that pair, and keeps nothing but the key (and the manager's attach key line).
 */

/** What one datagram means to a joining board; pure, so every refusal is tested without sockets. */
export type JoinReading =
  | { kind: 'ignore'; why: string }
  | { kind: 'pending'; closesInMs: number }
  | { kind: 'refused'; reason: string }
  | { kind: 'granted'; contents: GrantContents };

/**
 * Reads an answer to this boot's claim. Only the manager's address and port are listened to, only answers about
 * this board and this boot's public key count, and a grant must open with this boot's private key.
 */
export function readJoinAnswer(
  datagram: Buffer,
  from: Peer,
  expect: { board: number; manager: Peer; pair: JoinKeyPair },
): JoinReading {
  if (from.address !== expect.manager.address || from.port !== expect.manager.port)
    return { kind: 'ignore', why: `answer from ${from.address}:${from.port}, not the manager` };
  const decoded = decodeJoinAnswer(datagram);
  if (!decoded.ok) return { kind: 'ignore', why: decoded.error };
  const m = decoded.message;
  if (m.board !== expect.board || m.public_key !== expect.pair.publicHex)
    return { kind: 'ignore', why: `answer to another claim (board ${m.board})` };
  switch (m.type) {
    case 'join-pending':
      return { kind: 'pending', closesInMs: m.closes_in_ms };
    case 'join-refused':
      return { kind: 'refused', reason: m.reason };
    case 'join-grant': {
      const opened = openGrant(expect.board, expect.pair, m);
      return opened.ok
        ? { kind: 'granted', contents: opened.contents }
        : { kind: 'ignore', why: opened.error };
    }
  }
}

export interface JoinClientOptions {
  board: number;
  /** The manager's address and heartbeat port: claims go there, and only its answers count. */
  manager: Peer;
  /** The board's own socket (the agent's); the caller routes what arrives on it to `offer`. */
  net: Datagrams;
  /** How often the claim is sent until answered for good (a lost datagram, a manager still starting). */
  retryMs?: number;
  logger?: Logger;
  bootId: string;
}

/** Claims this board's key, again and again, until a grant opens; `cancel` ends the wait (the board stops). */
export class JoinClient {
  readonly pair = newJoinKeyPair();
  private timer: NodeJS.Timeout | null = null;
  private lastNote = '';
  private settle: { resolve: (c: GrantContents) => void; reject: (e: Error) => void } | null = null;
  /** Answers ignored (not the manager's, not ours, not opening), for tests. */
  ignored = 0;

  constructor(private readonly options: JoinClientOptions) {}

  run(): Promise<GrantContents> {
    const { options } = this;
    return new Promise<GrantContents>((resolve, reject) => {
      this.settle = { resolve, reject };
      const claim = encodeJoin({
        type: 'join',
        board: options.board,
        boot_id: options.bootId,
        public_key: this.pair.publicHex,
      });
      const send = (): void => options.net.send(claim, options.manager);
      send();
      this.timer = setInterval(send, options.retryMs ?? 2000);
      this.note(
        `board ${options.board}: no key yet; asking the manager at ${options.manager.address} to join`,
      );
    });
  }

  /** A datagram that arrived on the board's socket while joining. */
  offer(datagram: Buffer, from: Peer): void {
    if (!this.settle) return;
    const { board, manager } = this.options;
    const reading = readJoinAnswer(datagram, from, { board, manager, pair: this.pair });
    switch (reading.kind) {
      case 'ignore':
        this.ignored++;
        return this.note(`board ${board}: join answer ignored: ${reading.why}`, 'warn');
      case 'pending':
        return this.note(
          `board ${board}: join claim noted; the manager answers when its window closes (${Math.ceil(reading.closesInMs / 1000)} s)`,
        );
      case 'refused':
        return this.note(`board ${board}: join refused: ${reading.reason}`, 'warn');
      case 'granted': {
        const settle = this.settle;
        this.finish();
        this.options.logger?.info(`board ${board}: joined the box; key received from the manager`);
        settle.resolve(reading.contents);
      }
    }
  }

  cancel(): void {
    const settle = this.settle;
    this.finish();
    settle?.reject(new Error(`board ${this.options.board}: stopped before joining`));
  }

  private finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.settle = null;
  }

  /** One line per change of news: a board waiting a minute logs its state once, not thirty times. */
  private note(line: string, level: 'info' | 'warn' = 'info'): void {
    const head = line.replace(/\(\d+ s\)$/, '');
    if (head === this.lastNote) return;
    this.lastNote = head;
    (this.options.logger ?? silentLogger)[level](line);
  }
}
