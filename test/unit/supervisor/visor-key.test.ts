import { describe, expect, it } from 'vitest';
import { parseHeartbeatFigures, type BoardVisorFigures } from '../../../firmware/protocol/figures.js';
import { decodeManagerMessage } from '../../../firmware/protocol/messages.js';
import { boxHypervisorKey, hypervisorKeyDue } from '../../../firmware/supervisor/hypervisor-key.js';
import { rewardAddressDue } from '../../../firmware/supervisor/reward-address-order.js';
import { visorEvents } from '../../../firmware/supervisor/visor-events.js';
import { heartbeatFigures } from '../../../firmware/telemetry/heartbeat-figures.js';
import { visorFigures } from '../../helpers/visor-figures.js';

const HV = `03${'22'.repeat(32)}`;
const OTHER = `02${'33'.repeat(32)}`;
// Connecting: a visor's first five minutes, which are normal and raise nothing.
const visor = (over: Partial<BoardVisorFigures> = {}): BoardVisorFigures =>
  visorFigures({ hypervisor_pk: HV, services_health: 'connecting', ...over });
const hb = (v: BoardVisorFigures | null) => heartbeatFigures(undefined, [], null, v);

describe("the hypervisor key in the supervisor's answer to heartbeats", () => {
  it("takes the box's hypervisor key from the manager's own visor", () => {
    expect(boxHypervisorKey(hb(visor({ pk: HV })))).toBe(HV);
    expect(boxHypervisorKey(hb(null))).toBeNull();
    expect(boxHypervisorKey(undefined)).toBeNull();
  });

  it('sends it to a worker whose visor trusts another key or none, at most every five seconds', () => {
    const base = { board: 3, hypervisorPk: HV, now: 10_000 };
    expect(
      hypervisorKeyDue({
        ...base,
        figures: hb(visor({ hypervisor_pk: null, status: 'no-key' })),
        lastSentAt: undefined,
      }),
    ).toBe(true);
    expect(
      hypervisorKeyDue({ ...base, figures: hb(visor({ hypervisor_pk: OTHER })), lastSentAt: 4_000 }),
    ).toBe(true);
    expect(
      hypervisorKeyDue({ ...base, figures: hb(visor({ hypervisor_pk: OTHER })), lastSentAt: 6_000 }),
    ).toBe(false);
  });

  it('leaves alone the manager, a worker that trusts the key, a board without Skywire, and a box without a key yet', () => {
    const base = { lastSentAt: undefined, now: 0 };
    expect(
      hypervisorKeyDue({ ...base, board: 1, figures: hb(visor({ hypervisor_pk: null })), hypervisorPk: HV }),
    ).toBe(false);
    expect(hypervisorKeyDue({ ...base, board: 2, figures: hb(visor()), hypervisorPk: HV })).toBe(false);
    expect(hypervisorKeyDue({ ...base, board: 2, figures: hb(null), hypervisorPk: HV })).toBe(false);
    expect(
      hypervisorKeyDue({
        ...base,
        board: 2,
        figures: hb(visor({ hypervisor_pk: null })),
        hypervisorPk: null,
      }),
    ).toBe(false);
  });

  it('refuses a key message whose key is not a Skywire public key', () => {
    const msg = (pk: string) =>
      Buffer.from(JSON.stringify({ type: 'hypervisor-key', board: 2, boot_id: 'ab'.repeat(8), seq: 1, pk }));
    expect(decodeManagerMessage(msg(HV)).ok).toBe(true);
    const bad = decodeManagerMessage(msg('04' + '1'.repeat(64)));
    expect(bad).toEqual({ ok: false, error: 'message pk: expected a Skywire public key (66 hex digits)' });
  });

  it('carries the visor figures in the heartbeat, and an older agent without them is still read', () => {
    const parsed = parseHeartbeatFigures(JSON.parse(JSON.stringify(hb(visor()))));
    expect(parsed.ok && parsed.figures.visor).toEqual(visor());
    const old = { ...hb(null) } as Record<string, unknown>;
    delete old.visor;
    const older = parseHeartbeatFigures(old);
    expect(older.ok && older.figures.visor).toBeNull();
    expect(parseHeartbeatFigures({ ...hb(visor({ status: 'dancing' as never })) })).toEqual({
      ok: false,
      error: expect.stringContaining('telemetry.visor.status'),
    });
  });
});

describe("the reward address sent to a board for its visor's own file", () => {
  const ADDRESS = '2jBbGxZRGoQG1mqhPBnXnLTxK6oxsTf8os6';

  it('sends it while the visor file holds another, at most every five seconds, and never unasked', () => {
    const base = { wanted: ADDRESS, now: 10_000 };
    expect(rewardAddressDue({ ...base, figures: hb(visor()), lastSentAt: undefined })).toBe(true);
    expect(rewardAddressDue({ ...base, figures: hb(visor()), lastSentAt: 4_000 })).toBe(true);
    expect(rewardAddressDue({ ...base, figures: hb(visor()), lastSentAt: 6_000 })).toBe(false);
    expect(
      rewardAddressDue({ ...base, figures: hb(visor({ reward_address: ADDRESS })), lastSentAt: undefined }),
    ).toBe(false);
    expect(rewardAddressDue({ ...base, wanted: null, figures: hb(visor()), lastSentAt: undefined })).toBe(
      false,
    );
    expect(rewardAddressDue({ ...base, figures: hb(null), lastSentAt: undefined })).toBe(false);
  });

  it('refuses an order whose address is not a Skycoin address in form, and reads a bad file as none', () => {
    const msg = (address: string) =>
      Buffer.from(
        JSON.stringify({ type: 'reward-address', board: 2, boot_id: 'ab'.repeat(8), seq: 1, address }),
      );
    expect(decodeManagerMessage(msg(ADDRESS))).toMatchObject({ ok: true, message: { address: ADDRESS } });
    expect(decodeManagerMessage(msg('0xdeadbeef'))).toEqual({
      ok: false,
      error: 'message address: expected a Skycoin address (26 to 35 base58 characters)',
    });
    // A reward.txt holding something else is reported as no address, not as figures thrown away.
    const odd = JSON.parse(JSON.stringify(hb(visor()))) as { visor: Record<string, unknown> };
    odd.visor.reward_address = 'not an address\n';
    const parsed = parseHeartbeatFigures(odd);
    expect(parsed.ok && parsed.figures.visor?.reward_address).toBeNull();
  });
});

describe('visor events from heartbeats', () => {
  it('logs restarts, a board that cannot keep its visor up, its recovery, and a change of hypervisor key', () => {
    expect(visorEvents(hb(visor()), hb(visor({ restarts: 1, last_exit: 'exit code 1' })))).toEqual([
      { event: 'visor-restarted', details: { restarts: 1, last_exit: 'exit code 1' } },
    ]);
    expect(visorEvents(hb(visor({ restarts: 4 })), hb(visor({ restarts: 4, sick: true })))).toEqual([
      { event: 'visor-sick', details: { restarts: 4, last_exit: null } },
    ]);
    expect(visorEvents(hb(visor({ sick: true })), hb(visor()))).toEqual([
      { event: 'visor-recovered', details: {} },
    ]);
    expect(visorEvents(hb(visor()), hb(visor({ hypervisor_pk: OTHER })))).toEqual([
      { event: 'visor-hypervisor', details: { hypervisor_pk: OTHER } },
    ]);
  });

  it('says nothing of a first key, of services health connecting, or of a board without Skywire', () => {
    expect(visorEvents(hb(visor({ hypervisor_pk: null })), hb(visor()))).toEqual([]);
    expect(visorEvents(undefined, hb(visor()))).toEqual([]);
    expect(visorEvents(hb(visor({ services_health: 'healthy' })), hb(visor()))).toEqual([]);
    expect(visorEvents(hb(null), hb(null))).toEqual([]);
  });
});
