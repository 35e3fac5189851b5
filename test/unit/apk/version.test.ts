import { describe, expect, it } from 'vitest';
import { compareVersions, isValidVersion } from '../../../images/apk/version.js';

describe('apk version ordering', () => {
  const ordered: [string, string][] = [
    ['1.0', '1.1'],
    ['1.9', '1.10'],
    ['1.0', '1.0-r1'],
    ['1.0-r1', '1.0-r2'],
    ['1.0-r9', '1.0.1-r0'],
    ['1.1_rc1', '1.1'],
    ['0.10.0', '0.10.1_rc1'],
    ['0.1.0_alpha_pre2', '0.1.0_alpha'],
    ['1.0_p9-r0', '1.0_p10-r0'],
    ['1.0_alpha', '1.0_beta'],
    ['1.0_beta2', '1.0_rc1'],
    ['1.0', '1.0_p1'],
    ['1.0', '1.0_git20240101'],
    ['1.0', '1.0a'],
    ['1.0a', '1.0b'],
    ['1.05', '1.5'],
    ['2.0', '2.0.0'],
    ['1.36.1-r5', '1.37.0-r0'],
  ];
  for (const [lo, hi] of ordered) {
    it(`sorts ${lo} before ${hi}`, () => {
      expect(compareVersions(lo, hi)).toBe(-1);
      expect(compareVersions(hi, lo)).toBe(1);
    });
  }

  it('treats identical versions as equal', () => {
    expect(compareVersions('3.20.3-r0', '3.20.3-r0')).toBe(0);
  });

  it('matches a longer version against a prefix when fuzzy (~)', () => {
    expect(compareVersions('1.2.3-r0', '1.2', true)).toBe(0);
    expect(compareVersions('1.3.0', '1.2', true)).toBe(1);
  });

  it('accepts well-formed versions and rejects garbage', () => {
    expect(isValidVersion('1.2.3_rc1-r4')).toBe(true);
    expect(isValidVersion('2024.01a')).toBe(true);
    expect(isValidVersion('1.0bc')).toBe(false);
    expect(isValidVersion('1.0-x')).toBe(false);
  });
});
