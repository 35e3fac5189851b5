import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedSkycoinNode } from '../../../firmware/skywire/emulated-skycoin-node.js';
import { SkycoinClient } from '../../../firmware/skywire/skycoin-client.js';

const A = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';
const B = 'nu7eSpT6hr5P21uzw7bnbxm83B6ywSjHdq';
let node: EmulatedSkycoinNode | undefined;

afterEach(async () => {
  await node?.stop();
  node = undefined;
});

describe('Skycoin node balance', () => {
  it('sums the confirmed balance of the reward addresses, droplets to SKY', async () => {
    node = new EmulatedSkycoinNode();
    await node.start();
    node.credit(A, 12_500_000, 40);
    node.credit(B, 1, 2);
    const client = new SkycoinClient({ url: node.url });
    expect(await client.balance([A, B])).toEqual({ droplets: 12_500_001, sky: 12.500001, coinHours: 42 });
    expect(node.requests).toEqual([`GET /api/v1/balance?addrs=${A},${B}`]);
  });

  it('names what was wrong with a refused or malformed answer', async () => {
    node = new EmulatedSkycoinNode();
    await node.start();
    const client = new SkycoinClient({ url: node.url });
    await expect(client.balance(['0OIl'])).rejects.toThrow(
      `skycoin node ${node.url}: HTTP 400: 400 Bad Request - invalid address 0OIl`,
    );
    node.fault = 'wrong-shape';
    await expect(client.balance([A])).rejects.toThrow('skycoin /api/v1/balance: confirmed: ');
    node.fault = 'malformed';
    await expect(client.balance([A])).rejects.toThrow(/^skycoin \/api\/v1\/balance: answer is not JSON/);
  });
});
