import { execFile } from 'node:child_process';

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
