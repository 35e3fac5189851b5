import { describe, expect, it } from 'vitest';
import { TRIAL_ACK_RESEND_MS, trialAckDue } from '../../../firmware/supervisor/trial-ack.js';

const trying = { version: '1.1.0', slot: 'B', trying: true } as const;

describe("the manager's acknowledgement of a trial boot", () => {
  it('answers the first healthy heartbeat of a trial boot at once', () => {
    expect(trialAckDue({ firmware: trying, healthy: true, bootId: 'b1', last: undefined, now: 0 })).toBe(
      true,
    );
  });

  it('says nothing to a board on its committed slot, or one reporting no firmware', () => {
    const steady = { ...trying, trying: false };
    expect(trialAckDue({ firmware: steady, healthy: true, bootId: 'b1', last: undefined, now: 0 })).toBe(
      false,
    );
    expect(trialAckDue({ firmware: undefined, healthy: true, bootId: 'b1', last: undefined, now: 0 })).toBe(
      false,
    );
  });

  it('does not acknowledge a trial boot whose own checks fail', () => {
    expect(trialAckDue({ firmware: trying, healthy: false, bootId: 'b1', last: undefined, now: 0 })).toBe(
      false,
    );
  });

  it('acknowledges again after the resend interval while the board still says it is trying', () => {
    const last = { bootId: 'b1', at: 10_000 };
    const at = (now: number) => trialAckDue({ firmware: trying, healthy: true, bootId: 'b1', last, now });
    expect(at(10_000 + TRIAL_ACK_RESEND_MS - 1)).toBe(false);
    expect(at(10_000 + TRIAL_ACK_RESEND_MS)).toBe(true);
  });

  it('acknowledges a new boot at once, whenever the last boot was acknowledged', () => {
    expect(
      trialAckDue({ firmware: trying, healthy: true, bootId: 'b2', last: { bootId: 'b1', at: 10 }, now: 11 }),
    ).toBe(true);
  });
});
