import { describe, expect, it } from 'vitest';
import {
  ANY,
  EQUAL,
  GREATER,
  parseDependency,
  parseDependencyList,
  versionMatches,
} from '../../../images/apk/dependency.js';

describe('dependency terms', () => {
  it('parses plain, versioned, conflicting and so: terms', () => {
    expect(parseDependency('musl')).toMatchObject({ name: 'musl', mask: ANY, conflict: false });
    expect(parseDependency('musl>=1.2.4-r0')).toMatchObject({
      name: 'musl',
      mask: GREATER | EQUAL,
      version: '1.2.4-r0',
    });
    expect(parseDependency('!busybox-suid')).toMatchObject({ name: 'busybox-suid', conflict: true });
    expect(parseDependency('so:libc.musl-aarch64.so.1')).toMatchObject({ name: 'so:libc.musl-aarch64.so.1' });
    expect(parseDependencyList('a  b<2 !c')).toHaveLength(3);
  });

  it('checks versions with each operator', () => {
    expect(versionMatches(parseDependency('a<2'), '1.9')).toBe(true);
    expect(versionMatches(parseDependency('a<2'), '2')).toBe(false);
    expect(versionMatches(parseDependency('a=1.0-r1'), '1.0-r1')).toBe(true);
    expect(versionMatches(parseDependency('a~1.2'), '1.2.7-r3')).toBe(true);
    expect(versionMatches(parseDependency('a~1.2'), '1.3')).toBe(false);
    expect(versionMatches(parseDependency('a>1'), undefined)).toBe(false);
  });

  it('refuses repository pins and empty names', () => {
    expect(() => parseDependency('foo@edge')).toThrow(/dependency 'foo@edge'/);
    expect(() => parseDependency('>=1')).toThrow(/malformed/);
  });
});
