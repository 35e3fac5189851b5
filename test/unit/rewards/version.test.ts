import { describe, expect, it } from 'vitest';
import { compareVersions, versionAtLeast } from '../../../firmware/rewards/version.js';

describe('visor versions', () => {
  it('orders versions by number, not by text', () => {
    expect(compareVersions('v1.3.29', 'v1.3.26')).toBe(1);
    expect(compareVersions('v1.3.9', 'v1.3.26')).toBe(-1);
    expect(compareVersions('v1.10.0', 'v1.9.99')).toBe(1);
    expect(compareVersions('1.3.26', 'v1.3.26')).toBe(0);
  });

  it('ranks a pre-release below its release', () => {
    expect(compareVersions('v1.3.26-rc1', 'v1.3.26')).toBe(-1);
    expect(versionAtLeast('v1.3.27-rc1', 'v1.3.26')).toBe(true);
  });

  it('says when a version cannot be read', () => {
    expect(compareVersions('unknown', 'v1.3.26')).toBeNull();
    expect(versionAtLeast('', 'v1.3.26')).toBeNull();
  });
});
