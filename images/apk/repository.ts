import { readFile } from 'node:fs/promises';
import { ApkError } from './errors.js';
import { splitGzipMembers } from './gzip-members.js';
import { type IndexEntry, packageId, parseIndex } from './index-parser.js';
import { type Keyring, verifySignature } from './keyring.js';
import { readTar } from './tar-reader.js';

/** A repository's verified index. `location` is a directory or an http(s) URL, without the arch part. */
export interface Repository {
  location: string;
  description: string;
  keyName: string;
  entries: IndexEntry[];
}

const isUrl = (s: string): boolean => /^https?:\/\//.test(s);

/** Reads a file from a directory path or an http(s) URL. A short or failed download is an error. */
export async function fetchBytes(location: string, subject: string): Promise<Buffer> {
  if (!isUrl(location)) {
    try {
      return await readFile(location);
    } catch (err) {
      throw new ApkError(subject, `cannot read ${location} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  let res: Response;
  let body: Buffer;
  try {
    res = await fetch(location, { signal: AbortSignal.timeout(120_000) });
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new ApkError(
      subject,
      `download of ${location} failed (${cause?.message ?? (err as Error).message})`,
    );
  }
  if (!res.ok) throw new ApkError(subject, `download of ${location} failed (HTTP ${res.status})`);
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) !== body.length) {
    throw new ApkError(subject, `download of ${location} is truncated (${body.length} of ${declared} bytes)`);
  }
  return body;
}

export function indexLocation(repo: string, arch: string): string {
  return `${repo.replace(/\/+$/, '')}/${arch}/APKINDEX.tar.gz`;
}

export function packageLocation(repo: string, arch: string, e: IndexEntry): string {
  return `${repo.replace(/\/+$/, '')}/${arch}/${packageId(e)}.apk`;
}

/**
 * Verifies an APKINDEX.tar.gz: its first gzip member holds the signature, made over every byte that follows
 * (apk signs the whole rest of the file when there is no datahash), and the rest holds DESCRIPTION and APKINDEX.
 */
export function parseSignedIndex(
  buf: Buffer,
  keyring: Keyring,
  subject: string,
): Omit<Repository, 'location'> {
  const members = splitGzipMembers(buf, subject);
  if (members.length < 2) throw new ApkError(subject, 'has no signature part');
  const keyName = verifySignature(
    readTar(members[0]!.data, subject),
    buf.subarray(members[1]!.start),
    keyring,
    subject,
  );
  const tar = readTar(Buffer.concat(members.slice(1).map((m) => m.data)), subject);
  const index = tar.find((e) => e.name === 'APKINDEX');
  if (!index) throw new ApkError(subject, 'has no APKINDEX member');
  return {
    description:
      tar
        .find((e) => e.name === 'DESCRIPTION')
        ?.data.toString('utf8')
        .trim() ?? '',
    keyName,
    entries: parseIndex(index.data.toString('utf8'), subject),
  };
}

export async function loadRepository(location: string, arch: string, keyring: Keyring): Promise<Repository> {
  const url = indexLocation(location, arch);
  const parsed = parseSignedIndex(await fetchBytes(url, url), keyring, url);
  const entries = parsed.entries.filter(
    (e) => e.arch === undefined || e.arch === arch || e.arch === 'noarch',
  );
  return { location, ...parsed, entries };
}
