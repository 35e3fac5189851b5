import { describe, expect, it } from 'vitest';
import { readJoinAnswer } from '../../../firmware/agent/join.js';
import { newJoinKeyPair, openGrant, sealGrant, usableJoinKey } from '../../../firmware/auth/join-seal.js';
import {
  decodeJoinAnswer,
  decodeJoinClaim,
  encodeJoin,
  JOIN_MARK,
  type JoinGrant,
} from '../../../firmware/protocol/join.js';

const KEY = Buffer.alloc(32, 7);
const ATTACH = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbc skyminer-manager';
const manager = { address: '192.168.0.2', port: 7700 };

describe('join grant sealing (X25519, AES-256-GCM)', () => {
  it('opens only with the private key of the claim it was sealed to', () => {
    const board = newJoinKeyPair();
    const grant = sealGrant(3, board.publicHex, { key: KEY, attachLine: ATTACH });
    expect(openGrant(3, board, grant)).toEqual({ ok: true, contents: { key: KEY, attachLine: ATTACH } });
    // A listener with a key pair of its own learns nothing.
    expect(openGrant(3, newJoinKeyPair(), grant)).toMatchObject({ ok: false });
    // Bound to the slot: a grant for board 3 does not open as board 4's.
    expect(openGrant(4, board, grant)).toMatchObject({ ok: false });
  });

  it('refuses a grant altered in flight, in one line', () => {
    const board = newJoinKeyPair();
    const grant = sealGrant(3, board.publicHex, { key: KEY });
    const raw = Buffer.from(grant.sealed, 'base64');
    raw[20]! ^= 1;
    const result = openGrant(3, board, { ...grant, sealed: raw.toString('base64') });
    expect(result).toEqual({
      ok: false,
      error: 'grant does not open with this boot’s key (not sealed to it, or altered)',
    });
    expect(openGrant(3, board, { ...grant, sealed: 'AAAA' })).toEqual({
      ok: false,
      error: 'grant is too short to hold a key',
    });
  });

  it('refuses a public key that gives no shared secret', () => {
    expect(usableJoinKey('00'.repeat(32))).toBe(
      'public key gives no shared secret (not a usable X25519 key)',
    );
    expect(usableJoinKey(newJoinKeyPair().publicHex)).toBeUndefined();
  });
});

describe('join datagrams', () => {
  it('names what is wrong with a bad claim in one line', () => {
    const bad = (text: string) => Buffer.concat([Buffer.from([JOIN_MARK]), Buffer.from(text)]);
    expect(decodeJoinClaim(bad('{'))).toEqual({ ok: false, error: 'join message is not JSON' });
    expect(
      decodeJoinClaim(bad(JSON.stringify({ type: 'join', board: 3, boot_id: 'abcdef01', public_key: 'zz' }))),
    ).toEqual({
      ok: false,
      error: 'join message public_key: expected an X25519 public key (64 hex digits)',
    });
    expect(decodeJoinClaim(Buffer.from([1, 2, 3]))).toEqual({ ok: false, error: 'not a join datagram' });
    expect(decodeJoinClaim(bad(' '.repeat(5000)))).toEqual({
      ok: false,
      error: 'join datagram of 5001 bytes is too large',
    });
  });

  it('round-trips every message', () => {
    const pending = { type: 'join-pending', board: 2, public_key: 'a'.repeat(64), closes_in_ms: 5 } as const;
    expect(decodeJoinAnswer(encodeJoin(pending))).toEqual({ ok: true, message: pending });
  });
});

describe('a joining board reading answers', () => {
  const pair = newJoinKeyPair();
  const expectFor = { board: 3, manager, pair };
  const grantFor = (publicHex: string, board = 3) =>
    encodeJoin({
      type: 'join-grant',
      board,
      public_key: publicHex,
      ...sealGrant(board, publicHex, { key: KEY }),
    });

  it('takes the key from a grant sealed to this boot, sent by the manager', () => {
    expect(readJoinAnswer(grantFor(pair.publicHex), manager, expectFor)).toEqual({
      kind: 'granted',
      contents: { key: KEY },
    });
  });

  it('ignores answers from another address, for another claim, or replayed from an earlier boot', () => {
    expect(
      readJoinAnswer(grantFor(pair.publicHex), { address: '192.168.0.9', port: 7700 }, expectFor),
    ).toEqual({
      kind: 'ignore',
      why: 'answer from 192.168.0.9:7700, not the manager',
    });
    const earlierBoot = newJoinKeyPair();
    expect(readJoinAnswer(grantFor(earlierBoot.publicHex), manager, expectFor)).toEqual({
      kind: 'ignore',
      why: 'answer to another claim (board 3)',
    });
    // Someone who relabels a grant for another key with this boot's key gets nothing past the seal.
    const relabelled = JSON.parse(grantFor(earlierBoot.publicHex).subarray(1).toString()) as JoinGrant;
    const forged = encodeJoin({ ...relabelled, public_key: pair.publicHex });
    expect(readJoinAnswer(forged, manager, expectFor)).toMatchObject({ kind: 'ignore' });
  });

  it("passes on the manager's refusal and its wait", () => {
    const refused = encodeJoin({
      type: 'join-refused',
      board: 3,
      public_key: pair.publicHex,
      reason: 'no window',
    });
    expect(readJoinAnswer(refused, manager, expectFor)).toEqual({ kind: 'refused', reason: 'no window' });
    const pending = encodeJoin({
      type: 'join-pending',
      board: 3,
      public_key: pair.publicHex,
      closes_in_ms: 900,
    });
    expect(readJoinAnswer(pending, manager, expectFor)).toEqual({ kind: 'pending', closesInMs: 900 });
  });
});
