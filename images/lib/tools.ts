import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** A host tool the builder needs is missing or failed: the message names the tool and its Debian package. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

const PACKAGE_OF: Record<string, string> = {
  'mkfs.ext4': 'e2fsprogs',
  debugfs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  'mkfs.vfat': 'dosfstools',
  mcopy: 'mtools',
  mmd: 'mtools',
  mtype: 'mtools',
  mdir: 'mtools',
  sfdisk: 'fdisk',
  xz: 'xz-utils',
  'apt-get': 'apt',
  'dpkg-deb': 'dpkg',
  cpio: 'cpio',
  readelf: 'binutils',
  'aarch64-linux-gnu-strip': 'binutils-aarch64-linux-gnu',
  'arm-linux-gnueabihf-strip': 'binutils-arm-linux-gnueabihf',
};

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool with a fixed environment (C locale, UTC, the source date), so its output does not vary by host. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string | Buffer; maxBuffer?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          LC_ALL: 'C',
          TZ: 'UTC',
          ...opts.env,
        },
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          const pkg = PACKAGE_OF[cmd];
          return reject(
            new ToolError(`${cmd} not found${pkg ? ` (Debian package ${pkg}; make image installs it)` : ''}`),
          );
        }
        const why = (stderr || stdout || err.message).trim().split('\n').slice(-3).join(' / ');
        reject(new ToolError(`${cmd} ${args.slice(0, 3).join(' ')}... failed: ${why}`));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * Runs a filter (`xz -c`, say) from one file to another, reporting the bytes read so a terminal can show how far
 * it got. The output appears under its name only when the tool succeeded (written to `<dest>.tmp` first).
 */
export async function filterFile(
  cmd: string,
  args: string[],
  src: string,
  dest: string,
  onRead: (bytes: number) => void = () => undefined,
): Promise<void> {
  const tmp = `${dest}.tmp`;
  const child = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', TZ: 'UTC' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const pkg = PACKAGE_OF[cmd];
      reject(
        err.code === 'ENOENT'
          ? new ToolError(`${cmd} not found${pkg ? ` (Debian package ${pkg}; make image installs it)` : ''}`)
          : err,
      );
    });
    child.once('close', resolve);
  });
  let read = 0;
  const input = createReadStream(src).on('data', (chunk) => onRead((read += chunk.length)));
  try {
    const [, , code] = await Promise.all([
      pipeline(input, child.stdin),
      pipeline(child.stdout, createWriteStream(tmp)),
      exited,
    ]);
    if (code !== 0)
      throw new ToolError(
        `${cmd} ${args.join(' ')} failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`,
      );
    await rename(tmp, dest);
  } catch (err) {
    child.kill();
    await rm(tmp, { force: true });
    throw err;
  }
}
