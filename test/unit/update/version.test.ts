import { describe, expect, it } from 'vitest';
import { compareVersions, isVersion } from '../../../firmware/update/version.js';

describe('firmware versions', () => {
  it('orders by major, minor and patch as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('0.1.0', '0.1.0')).toBe(0);
    expect(compareVersions('0.1.0', '0.2.0')).toBe(-1);
  });

  it('puts a pre-release before its release and orders pre-releases', () => {
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(compareVersions('1.0.0-rc.2', '1.0.0-rc.10')).toBe(-1);
    expect(compareVersions('1.0.0-alpha', '1.0.0-1')).toBe(1);
    expect(compareVersions('1.0.0-rc.1', '1.0.0-rc.1.1')).toBe(-1);
  });

  it('knows what is not a version', () => {
    expect(isVersion('latest')).toBe(false);
    expect(isVersion('1.2')).toBe(false);
    expect(() => compareVersions('1.2', '1.2.0')).toThrow('not a firmware version: 1.2');
  });
});
