import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDependencyList } from '../../../images/apk/dependency.js';
import { formatIndexHeader, parseIndex, type IndexEntry } from '../../../images/apk/index-parser.js';
import { resolve } from '../../../images/apk/resolver.js';

/** Index records from `name version [D:...] [p:...] [i:...] [k:...]` shorthand lines. */
function index(...lines: string[]): IndexEntry[] {
  const text = lines
    .map((l) => {
      const [head, ...extra] = l.split(' ; ');
      const [name, version] = head!.split(' ');
      const c = 'Q1' + createHash('sha1').update(l).digest('base64');
      return [`C:${c}`, `P:${name}`, `V:${version}`, 'A:aarch64', ...extra].join('\n');
    })
    .join('\n\n');
  return parseIndex(text + '\n', 'test index');
}

const names = (ps: IndexEntry[]): string[] => ps.map((p) => `${p.name}-${p.version}`);
const world = (s: string) => parseDependencyList(s);

describe('resolver', () => {
  it('installs a dependency chain dependencies first', () => {
    const available = index(
      'app 1.0-r0 ; D:libfoo>=2',
      'libfoo 2.1-r0 ; D:musl',
      'libfoo 1.0-r0',
      'musl 1.2.5-r0',
    );
    const r = resolve({ available, installed: [], world: world('app') });
    expect(names(r.install)).toEqual(['musl-1.2.5-r0', 'libfoo-2.1-r0', 'app-1.0-r0']);
  });

  it('picks the highest version that satisfies a versioned dependency', () => {
    const available = index('app 1 ; D:lib<2', 'lib 3.0', 'lib 1.5', 'lib 1.9');
    expect(names(resolve({ available, installed: [], world: world('app') }).install)).toEqual([
      'lib-1.9',
      'app-1',
    ]);
  });

  it('satisfies so: and cmd: names through provides, preferring provider priority', () => {
    const available = index(
      'app 1 ; D:so:libz.so.1 cmd:sh',
      'zlib 1.3 ; p:so:libz.so.1=1.3',
      'busybox-binsh 1.36 ; p:cmd:sh=1.36 /bin/sh ; k:100',
      'dash-binsh 0.5 ; p:cmd:sh=0.5 ; k:60',
    );
    const r = resolve({ available, installed: [], world: world('app') });
    expect(names(r.install).sort()).toEqual(['app-1', 'busybox-binsh-1.36', 'zlib-1.3']);
  });

  it('never lets two packages hold the same versioned provide', () => {
    const available = index('app 1 ; D:a b', 'a 1 ; p:cmd:x=1', 'b 1 ; p:cmd:x=2');
    expect(() => resolve({ available, installed: [], world: world('app') })).toThrow(
      "app-1: cannot satisfy 'b': b-1 provides 'cmd:x' as a-1 does",
    );
  });

  it('honours !conflicts by choosing another provider', () => {
    const available = index(
      'app 1 ; D:!openssl-legacy sslimpl',
      'openssl-legacy 1 ; p:sslimpl ; k:10',
      'libressl 1 ; p:sslimpl',
    );
    const r = resolve({ available, installed: [], world: world('app') });
    expect(names(r.install)).toEqual(['libressl-1', 'app-1']);
  });

  it('refuses a world that conflicts with itself, naming both sides', () => {
    const available = index('a 1 ; D:!b', 'b 1');
    expect(() => resolve({ available, installed: [], world: world('a b') })).toThrow(
      "world: cannot satisfy 'b': b-1 conflicts with a-1 ('!b')",
    );
  });

  it('adds install_if packages once all their conditions hold, and not before', () => {
    const available = index(
      'openrc 0.54',
      'chrony 4.5',
      'chrony-openrc 4.5 ; i:chrony=4.5 openrc',
      'docs-helper 1 ; i:chrony-openrc man-pages',
    );
    expect(names(resolve({ available, installed: [], world: world('chrony') }).install)).toEqual([
      'chrony-4.5',
    ]);
    expect(names(resolve({ available, installed: [], world: world('chrony openrc') }).install)).toEqual([
      'chrony-4.5',
      'openrc-0.54',
      'chrony-openrc-4.5',
    ]);
  });

  it('names the missing piece of an unsatisfiable request', () => {
    const available = index('app 1 ; D:so:libmissing.so.3', 'lib 1.0');
    expect(() => resolve({ available, installed: [], world: world('app') })).toThrow(
      "app-1: no package provides 'so:libmissing.so.3'",
    );
    expect(() => resolve({ available, installed: [], world: world('lib>=2') })).toThrow(
      "world: no package provides 'lib>=2' (available: lib-1.0)",
    );
  });

  it('gives the same answer for the same index and world whatever the world order', () => {
    const available = index('a 1 ; D:c', 'b 1 ; D:c', 'c 1', 'c 2');
    const one = names(resolve({ available, installed: [], world: world('a b') }).install);
    const two = names(resolve({ available, installed: [], world: world('b a') }).install);
    expect(one).toEqual(two);
    expect(one).toEqual(['c-2', 'a-1', 'b-1']);
  });

  it('keeps installed packages and only adds what is missing', () => {
    const available = index('a 1 ; D:c', 'c 1');
    const installed = [available[1]!];
    const r = resolve({ available, installed, world: world('a c') });
    expect(names(r.install)).toEqual(['a-1']);
    expect(names(r.all)).toEqual(['c-1', 'a-1']);
  });
});

describe('index records', () => {
  it('writes the header in apk-tools field order with only the fields that are set', () => {
    const [e] = parseIndex(
      [
        'P:busybox',
        'V:1.36.1-r29',
        'C:Q1sVbGmUYmVPGcg0vTyP0Pp4ZdyCg=',
        'A:aarch64',
        'S:512345',
        'I:950272',
        'T:Size optimized toolbox',
        'U:https://busybox.net/',
        'L:GPL-2.0-only',
        'o:busybox',
        'm:Sören Tempel <soeren+alpine@soeren-tempel.net>',
        't:1718000000',
        'c:ab12cd',
        'D:so:libc.musl-aarch64.so.1',
        'p:cmd:busybox=1.36.1-r29 cmd:sh=1.36.1-r29',
        '',
      ].join('\n'),
      'idx',
    );
    expect(formatIndexHeader(e!)).toBe(
      [
        'C:Q1sVbGmUYmVPGcg0vTyP0Pp4ZdyCg=',
        'P:busybox',
        'V:1.36.1-r29',
        'A:aarch64',
        'S:512345',
        'I:950272',
        'T:Size optimized toolbox',
        'U:https://busybox.net/',
        'L:GPL-2.0-only',
        'o:busybox',
        'm:Sören Tempel <soeren+alpine@soeren-tempel.net>',
        't:1718000000',
        'c:ab12cd',
        'D:so:libc.musl-aarch64.so.1',
        'p:cmd:busybox=1.36.1-r29 cmd:sh=1.36.1-r29',
        '',
      ].join('\n'),
    );
  });

  it('refuses a record without a checksum, naming where it is', () => {
    expect(() => parseIndex('P:a\nV:1\n', 'main/APKINDEX')).toThrow("missing 'C:' field");
  });
});
