import type { Datagrams, Peer } from '../../firmware/protocol/datagrams.js';

/** An in-memory endpoint: tests deliver datagrams to it and read what it sent. */
export class FakeDatagrams implements Datagrams {
  readonly sent: { message: Buffer; to: Peer }[] = [];
  private listener: ((message: Buffer, from: Peer) => void) | undefined;
  closed = false;

  constructor(readonly port = 40000) {}

  send(message: Buffer, to: Peer): void {
    this.sent.push({ message, to });
  }

  onMessage(listener: (message: Buffer, from: Peer) => void): void {
    this.listener = listener;
  }

  deliver(message: Buffer, from: Peer = { address: '127.0.0.1', port: 50000 }): void {
    this.listener?.(message, from);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
