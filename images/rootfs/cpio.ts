// A newc cpio archive (the initramfs format), written byte by byte: fixed inode numbers, owners and times, so
// the same files always give the same archive.
export interface CpioEntry {
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  mode: number;
  data?: Buffer;
  target?: string;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

function header(
  ino: number,
  mode: number,
  nlink: number,
  mtime: number,
  size: number,
  nameSize: number,
): string {
  return `070701${[ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, nameSize, 0].map(hex8).join('')}`;
}

export function newcArchive(entries: readonly CpioEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  const push = (name: string, hdr: string, body: Buffer) => {
    const nameBuf = Buffer.from(`${name}\0`);
    const head = Buffer.concat([Buffer.from(hdr, 'latin1'), nameBuf]);
    parts.push(head, Buffer.alloc(pad4(head.length)), body, Buffer.alloc(pad4(body.length)));
  };
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  sorted.forEach((e, i) => {
    const name = e.path.replace(/^\/+/, '');
    const type = e.kind === 'dir' ? 0o040000 : e.kind === 'symlink' ? 0o120000 : 0o100000;
    const body =
      e.kind === 'file'
        ? (e.data ?? Buffer.alloc(0))
        : e.kind === 'symlink'
          ? Buffer.from(e.target ?? '')
          : Buffer.alloc(0);
    const nameLen = Buffer.byteLength(name) + 1;
    push(
      name,
      header(i + 1, type | (e.mode & 0o7777), e.kind === 'dir' ? 2 : 1, mtime, body.length, nameLen),
      body,
    );
  });
  push('TRAILER!!!', header(0, 0, 1, 0, 0, 11), Buffer.alloc(0));
  return Buffer.concat(parts);
}
