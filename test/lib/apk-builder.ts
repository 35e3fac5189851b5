// Builds signed Alpine repositories the way abuild and `apk index` lay them out, for tests and the benchmark.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TAR_END, tarHeader, tarPadding } from '../../images/apk/tar-writer.js';

export interface FileSpec {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev';
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  content?: string | Buffer;
  target?: string;
  major?: number;
  minor?: number;
}

export interface PackageSpec {
  name: string;
  version: string;
  arch?: string;
  description?: string;
  origin?: string;
  depends?: string[];
  provides?: string[];
  installIf?: string[];
  replaces?: string[];
  triggers?: string[];
  providerPriority?: number;
  scripts?: Record<string, string>;
  files?: FileSpec[];
}

export interface TestKey {
  /** The file name apk knows the key by, e.g. `test@example.org-5f00.rsa.pub`. */
  name: string;
  privateKey: KeyObject;
  publicPem: string;
}

export function makeKey(name = 'skyminer-test-1.rsa.pub'): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { name, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A key made with the openssl command line, as abuild-keygen makes them. */
export function makeKeyWithOpenssl(dir: string, name: string): TestKey {
  const priv = join(dir, `${name}.priv`);
  execFileSync('openssl', ['genrsa', '-out', priv, '2048'], { stdio: 'ignore' });
  const publicPem = execFileSync('openssl', ['rsa', '-in', priv, '-pubout'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return { name, privateKey: createPrivateKey(execFileSync('cat', [priv])), publicPem };
}

export async function writeKeysDir(dir: string, ...keys: TestKey[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const k of keys) await writeFile(join(dir, k.name), k.publicPem);
}

const MTIME = 1_700_000_000;

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.from(`${len}${body}`);
}

function member(
  name: string,
  typeflag: string,
  data: Buffer,
  f: Partial<FileSpec>,
  pax: Buffer[] = [],
): Buffer {
  const parts: Buffer[] = [];
  if (pax.length) {
    const p = Buffer.concat(pax);
    parts.push(
      tarHeader({
        name: `PaxHeaders/${name}`.slice(0, 99),
        typeflag: 'x',
        size: p.length,
        mode: 0o644,
        mtime: MTIME,
      }),
    );
    parts.push(p, tarPadding(p.length));
  }
  parts.push(
    tarHeader({
      name,
      typeflag,
      size: data.length,
      mode: f.mode ?? (typeflag === '5' ? 0o755 : typeflag === '2' ? 0o777 : 0o644),
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
      uname: f.uname ?? 'root',
      gname: f.gname ?? 'root',
      mtime: MTIME,
      linkname: f.target,
      devMajor: f.major,
      devMinor: f.minor,
    }),
    data,
    tarPadding(data.length),
  );
  return Buffer.concat(parts);
}

/** The data tar: every parent directory gets its own entry, each file and link a SHA-1 PAX record. */
export function dataTar(files: FileSpec[]): Buffer {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  const ensureDir = (dir: string): void => {
    if (!dir || seen.has(dir)) return;
    ensureDir(dir.split('/').slice(0, -1).join('/'));
    seen.add(dir);
    out.push(member(dir + '/', '5', Buffer.alloc(0), {}));
  };
  for (const f of files) {
    const type = f.type ?? 'file';
    ensureDir(f.path.split('/').slice(0, -1).join('/'));
    if (type === 'dir') {
      seen.add(f.path);
      out.push(member(f.path + '/', '5', Buffer.alloc(0), f));
    } else if (type === 'file') {
      const data = Buffer.from(f.content ?? '');
      const sum = createHash('sha1').update(data).digest('hex');
      out.push(member(f.path, '0', data, f, [paxRecord('APK-TOOLS.checksum.SHA1', sum)]));
    } else if (type === 'symlink') {
      const sum = createHash('sha1').update(f.target!).digest('hex');
      out.push(member(f.path, '2', Buffer.alloc(0), f, [paxRecord('APK-TOOLS.checksum.SHA1', sum)]));
    } else if (type === 'hardlink') {
      out.push(member(f.path, '1', Buffer.alloc(0), f));
    } else {
      out.push(member(f.path, '3', Buffer.alloc(0), f));
    }
  }
  return Buffer.concat([...out, TAR_END]);
}

export interface BuiltPackage {
  spec: PackageSpec;
  apk: Buffer;
  /** The package's APKINDEX record (without the trailing blank line). */
  index: string;
}

/** An .apk v2: signature, control (.PKGINFO with datahash, scripts) and data, each its own gzip member. */
export function buildApk(spec: PackageSpec, key: TestKey, sigType: 'RSA' | 'RSA256' = 'RSA'): BuiltPackage {
  const arch = spec.arch ?? 'aarch64';
  const files = spec.files ?? [];
  const dataGz = gzipSync(dataTar(files));
  const size = files.reduce((n, f) => n + Buffer.from(f.content ?? '').length, 0);
  const info = [
    '# Generated by a test',
    `pkgname = ${spec.name}`,
    `pkgver = ${spec.version}`,
    `pkgdesc = ${spec.description ?? `${spec.name} test package`}`,
    'url = https://example.org/',
    `builddate = ${MTIME}`,
    `size = ${size}`,
    `arch = ${arch}`,
    `origin = ${spec.origin ?? spec.name}`,
    'license = MIT',
    ...(spec.replaces ?? []).map((r) => `replaces = ${r}`),
    ...(spec.depends ?? []).map((d) => `depend = ${d}`),
    ...(spec.provides ?? []).map((p) => `provides = ${p}`),
    ...(spec.installIf?.length ? [`install_if = ${spec.installIf.join(' ')}`] : []),
    ...(spec.triggers?.length ? [`triggers = ${spec.triggers.join(' ')}`] : []),
    `datahash = ${createHash('sha256').update(dataGz).digest('hex')}`,
    '',
  ].join('\n');
  const control = [member('.PKGINFO', '0', Buffer.from(info), {})];
  for (const [type, body] of Object.entries(spec.scripts ?? {})) {
    control.push(member(`.${type}`, '0', Buffer.from(body), { mode: 0o755 }));
  }
  const controlGz = gzipSync(Buffer.concat(control)); // cut: no end-of-archive blocks, as abuild does
  const alg = sigType === 'RSA' ? 'sha1' : 'sha256';
  const signature = sign(alg, controlGz, key.privateKey);
  const sigGz = gzipSync(member(`.SIGN.${sigType}.${key.name}`, '0', signature, {}));
  const apk = Buffer.concat([sigGz, controlGz, dataGz]);
  const checksum = 'Q1' + createHash('sha1').update(controlGz).digest('base64');
  const index = [
    `C:${checksum}`,
    `P:${spec.name}`,
    `V:${spec.version}`,
    `A:${arch}`,
    `S:${apk.length}`,
    `I:${size}`,
    `T:${spec.name} test package`,
    'U:https://example.org/',
    'L:MIT',
    `o:${spec.origin ?? spec.name}`,
    `t:${MTIME}`,
    ...(spec.providerPriority ? [`k:${spec.providerPriority}`] : []),
    ...(spec.depends?.length ? [`D:${spec.depends.join(' ')}`] : []),
    ...(spec.provides?.length ? [`p:${spec.provides.join(' ')}`] : []),
    ...(spec.installIf?.length ? [`i:${spec.installIf.join(' ')}`] : []),
  ].join('\n');
  return { spec, apk, index };
}

/** APKINDEX.tar.gz: a signature member over everything after it, then DESCRIPTION and APKINDEX. */
export function buildIndex(records: string[], key: TestKey, description = 'test repository'): Buffer {
  const text = Buffer.from(records.map((r) => r + '\n\n').join(''));
  const body = gzipSync(
    Buffer.concat([
      member('DESCRIPTION', '0', Buffer.from(description), {}),
      member('APKINDEX', '0', text, {}),
      TAR_END,
    ]),
  );
  const signature = sign('sha1', body, key.privateKey);
  return Buffer.concat([gzipSync(member(`.SIGN.RSA.${key.name}`, '0', signature, {})), body]);
}

/** Writes `<dir>/<arch>/*.apk` and the signed index; returns the built packages. */
export async function writeRepository(
  dir: string,
  specs: PackageSpec[],
  key: TestKey,
  arch = 'aarch64',
  sigType: 'RSA' | 'RSA256' = 'RSA',
): Promise<BuiltPackage[]> {
  await mkdir(join(dir, arch), { recursive: true });
  const built = specs.map((s) => buildApk({ arch, ...s }, key, sigType));
  for (const b of built) await writeFile(join(dir, arch, `${b.spec.name}-${b.spec.version}.apk`), b.apk);
  await writeFile(
    join(dir, arch, 'APKINDEX.tar.gz'),
    buildIndex(
      built.map((b) => b.index),
      key,
    ),
  );
  return built;
}
