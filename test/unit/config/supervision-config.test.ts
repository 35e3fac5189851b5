import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfigText } from '../../../firmware/config/load.js';
import { policyFromConfig } from '../../../firmware/supervisor/settings.js';

describe('supervision config', () => {
  it('ships timings that detect a hang within 3 s: timeout plus probe window', () => {
    const s = defaultConfig().supervisor;
    expect(s.heartbeat_timeout_ms + s.probe_timeout_ms + s.tick_ms).toBeLessThanOrEqual(2800);
    expect(policyFromConfig(defaultConfig())).toMatchObject({
      restartCap: 3,
      restartWindowMs: 3_600_000,
      quarantine: 'off',
    });
  });

  it('refuses a heartbeat timeout not longer than the heartbeat interval', () => {
    expect(() =>
      parseConfigText('[supervisor]\nheartbeat_interval_ms = 1000\nheartbeat_timeout_ms = 800', 'box.conf'),
    ).toThrow(
      'box.conf: supervisor.heartbeat_timeout_ms: heartbeat_timeout_ms must be longer than heartbeat_interval_ms',
    );
  });

  it('refuses an unknown quarantine mode, naming the key', () => {
    expect(() => parseConfigText('[supervisor]\nquarantine = "reboot"', 'box.conf')).toThrow(
      /^box\.conf: supervisor\.quarantine: /,
    );
  });
});
