import { createSocket } from 'node:dgram';

export interface Peer {
  address: string;
  port: number;
}

/**
 * A datagram endpoint as the agent and the supervisor use it: UDP on the device, wrapped by the simulator to
 * cut or delay a board's network.
 */
export interface Datagrams {
  readonly port: number;
  send(message: Buffer, to: Peer): void;
  onMessage(listener: (message: Buffer, from: Peer) => void): void;
  close(): Promise<void>;
}

/** Binds a UDP socket; errors after binding go to `onError` (one line each), never up the stack. */
export async function bindUdp(
  port: number,
  host: string | undefined,
  onError: (message: string) => void,
): Promise<Datagrams> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => onError(`socket: ${err.message}`));
  let open = true;
  return {
    port: socket.address().port,
    send: (message, to) => {
      if (!open) return;
      // Fire and forget: a lost datagram is what the timeouts are for.
      socket.send(message, to.port, to.address, (err) => {
        if (err) onError(`send to ${to.address}:${to.port}: ${err.message}`);
      });
    },
    onMessage: (listener) => socket.on('message', (msg, rinfo) => listener(msg, rinfo)),
    close: () =>
      new Promise<void>((resolve) => {
        if (!open) return resolve();
        open = false;
        socket.close(() => resolve());
      }),
  };
}
