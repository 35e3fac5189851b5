import { describe, expect, it } from 'vitest';
import { skycoinAddressOf, skycoinAddressProblem } from '../../../firmware/skywire/skycoin-address.js';

// Accepted by a real Skywire v1.3.28 hypervisor (PUT /api/visors/{pk}/reward answered 200 with it).
const REAL_ACCEPTED = 'fYKNXLayzeKkWKMpcHevmmxCMqRHNenJEE';

describe('Skycoin address check', () => {
  it('accepts an address the real hypervisor took, and every address made from a key', () => {
    expect(skycoinAddressProblem(REAL_ACCEPTED)).toBeNull();
    for (let i = 0; i < 50; i++)
      expect(skycoinAddressProblem(skycoinAddressOf(Buffer.alloc(20, i)))).toBeNull();
  });

  it('keeps leading zero bytes as leading 1s', () => {
    const a = skycoinAddressOf(Buffer.alloc(20, 0));
    expect(a.startsWith('1')).toBe(true);
    expect(skycoinAddressProblem(a)).toBeNull();
  });

  it('names the problem of each kind of bad address in one line', () => {
    expect(skycoinAddressProblem('')).toBe('a Skycoin address is needed');
    expect(skycoinAddressProblem('fYKNXLayzeKkWKMpcHevmmxCMqRHNenJE0')).toBe('"0" is not a base58 character');
    expect(skycoinAddressProblem('2jBbGxZRGoQG1mqhPBKESsQLmdKLLsqnP6S')).toBe(
      'its checksum does not match (a mistyped character?)',
    );
    expect(skycoinAddressProblem('fYKNXLayze')).toMatch(
      /^decodes to \d+ bytes, not the 25 of a Skycoin address$/,
    );
    expect(skycoinAddressProblem('x'.repeat(41))).toBe('too long for a Skycoin address');
  });
});
