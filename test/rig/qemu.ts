import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place in the source tree or in dist/. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();
export const rigCache = join(repoRoot, '.cache/rig');

export type Target = 'arm64' | 'armhf';

export interface Machine {
  target: Target;
  qemu: string;
  args: string[];
  console: string;
}

/** The emulated machines the tests use (DESIGN.md section 6 records what each offers). */
export const MACHINES = {
  /** PL061 GPIO at 0x09030000, PCI for the i6300ESB watchdog. */
  'virt-arm64': {
    target: 'arm64',
    qemu: 'qemu-system-aarch64',
    args: ['-M', 'virt', '-cpu', 'cortex-a53', '-m', '1024', '-nic', 'none'],
    console: 'ttyAMA0',
  },
  'virt-armhf': {
    target: 'armhf',
    qemu: 'qemu-system-arm',
    args: ['-M', 'virt,highmem=off', '-cpu', 'cortex-a15', '-m', '1024', '-nic', 'none'],
    console: 'ttyAMA0',
  },
  /** i.MX6 with its I2C controller driven by i2c-imx; the console is the second UART. */
  sabrelite: {
    target: 'armhf',
    qemu: 'qemu-system-arm',
    args: ['-M', 'sabrelite', '-m', '1024', '-dtb', 'imx6q-sabrelite.dtb', '-serial', 'null', '-nic', 'none'],
    console: 'ttymxc1',
  },
} satisfies Record<string, Machine>;
export type MachineName = keyof typeof MACHINES;

export interface RigRun {
  machine: MachineName;
  /** Shell script run by the guest's init in /opt/skyminer; its exit status is printed as RIG-EXIT. */
  script: string;
  modules?: string[];
  /** More QEMU arguments (devices, -action). */
  qemuArgs?: string[];
  /** QEMU trace events to record (`pl061_set_output`, `i2c_*`). */
  trace?: string[];
  /** Extra files for the guest, by absolute guest path. */
  files?: Record<string, string>;
  timeoutMs: number;
  /** Called for every console line as it arrives, with the host clock. */
  onLine?: (line: string, atMs: number) => void;
}

export interface ConsoleLine {
  atMs: number;
  text: string;
}

export interface RigResult {
  lines: ConsoleLine[];
  /** The script's exit status, or null when the machine stopped before the script ended. */
  scriptExit: number | null;
  qemuExit: number | null;
  timedOut: boolean;
  startedAtMs: number;
  endedAtMs: number;
  /** QEMU's trace log, one event per line with its host time in ms. */
  trace: { atMs: number; event: string; args: string }[];
}

/** Why the rig cannot run here, or null when it can. */
export function rigUnavailable(target: Target): string | null {
  const base = join(rigCache, target, 'base.cpio');
  if (!existsSync(base)) return `no rig root at ${relative(repoRoot, base)} (make rig builds it)`;
  if (!existsSync(join(repoRoot, 'dist/firmware/cli/main.js'))) return 'no dist/ (make build)';
  return null;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (!entry.name.endsWith('.map')) out.push(path);
  }
  return out;
}

function run(cmd: string, args: string[], options: { cwd: string; input: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${cmd} exited ${code}`)),
    );
    child.stdin.end(options.input);
  });
}

/** The second archive of a run: the firmware's dist/, package.json, the script and any extra files. */
async function overlayArchive(work: string, options: RigRun): Promise<Buffer> {
  const root = join(work, 'overlay');
  const app = join(root, 'opt/skyminer');
  await mkdir(join(root, 'rig'), { recursive: true });
  await mkdir(app, { recursive: true });
  for (const part of ['firmware', 'drivers', 'test/hil/guest'])
    await cp(join(repoRoot, 'dist', part), join(app, 'dist', part), {
      recursive: true,
      filter: (src) => !src.endsWith('.map'),
    });
  await cp(join(repoRoot, 'package.json'), join(app, 'package.json'));
  await writeFile(join(root, 'rig/run.sh'), options.script);
  await writeFile(join(root, 'rig/modules'), (options.modules ?? []).join('\n') + '\n');
  for (const [path, text] of Object.entries(options.files ?? {})) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const files = (await listFiles(root)).map((f) => relative(root, f));
  // Folders first, so the kernel creates them with sane modes before the files land.
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f); d !== '.'; d = dirname(d)) dirs.add(d);
  const list = [...[...dirs].sort(), ...files].join('\n') + '\n';
  return run('cpio', ['-o', '-H', 'newc', '--quiet', '-R', '0:0'], { cwd: root, input: list });
}

/** QEMU's log trace backend writes `pid@seconds.micros:event args`. */
function parseTrace(text: string): RigResult['trace'] {
  const out: RigResult['trace'] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+@(\d+)\.(\d+):(\w+) ?(.*)$/.exec(line);
    if (m) out.push({ atMs: Number(m[1]) * 1000 + Number(m[2]) / 1000, event: m[3]!, args: m[4]! });
  }
  return out;
}

/**
 * Boots the target in QEMU (TCG) with the base root plus this run's overlay, runs the script, and returns the
 * console lines (with host times), the trace and how QEMU ended. One machine at a time: the host is shared.
 */
export async function runInRig(options: RigRun): Promise<RigResult> {
  const machine: Machine = MACHINES[options.machine];
  const why = rigUnavailable(machine.target);
  if (why) throw new Error(why);
  const work = await mkdtemp(join(tmpdir(), 'rig-'));
  try {
    const initrd = join(work, 'initrd.cpio');
    const overlay = await overlayArchive(work, options);
    await pipeline(createReadStream(join(rigCache, machine.target, 'base.cpio')), createWriteStream(initrd));
    await writeFile(initrd, overlay, { flag: 'a' });
    const traceFile = join(work, 'trace.log');
    const args = [
      ...machine.args.map((a) => (a.endsWith('.dtb') ? join(rigCache, machine.target, a) : a)),
      ...['-kernel', join(rigCache, machine.target, 'vmlinuz'), '-initrd', initrd],
      ...['-append', `console=${machine.console} rdinit=/init loglevel=3 panic=-1`],
      ...['-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot'],
      ...(options.trace ?? []).flatMap((t) => ['-trace', t]),
      ...(options.trace?.length ? ['-D', traceFile, '-msg', 'timestamp=on'] : []),
      ...(options.qemuArgs ?? []),
    ];
    const lines: ConsoleLine[] = [];
    let scriptExit: number | null = null;
    const startedAtMs = Date.now();
    const child = spawn(machine.qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const atMs = Date.now();
      partial += chunk.toString('latin1');
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const raw of parts) {
        const text = raw.replace(/\r$/, '');
        lines.push({ atMs, text });
        const exit = /^RIG-EXIT (\d+)/.exec(text);
        if (exit) {
          scriptExit = Number(exit[1]);
          // Some machines (sabrelite) halt instead of powering off: give QEMU a moment, then end it.
          setTimeout(() => child.kill('SIGKILL'), 3000).unref();
        }
        options.onLine?.(text, atMs);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const qemuExit = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    clearTimeout(timer);
    const endedAtMs = Date.now();
    if (partial) lines.push({ atMs: endedAtMs, text: partial });
    if (process.env.RIG_KEEP_TRACE) await cp(traceFile, process.env.RIG_KEEP_TRACE).catch(() => undefined);
    const trace = existsSync(traceFile) ? parseTrace(await readFile(traceFile, 'utf8')) : [];
    return { lines, scriptExit, qemuExit, timedOut, startedAtMs, endedAtMs, trace };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The JSON a guest program printed on a `RIG-JSON ` line, by its tag. */
export function guestJson<T>(result: RigResult, tag: string): T {
  const prefix = `RIG-JSON ${tag} `;
  const line = result.lines.find((l) => l.text.startsWith(prefix));
  if (!line) {
    const tail = result.lines
      .slice(-25)
      .map((l) => l.text)
      .join('\n');
    throw new Error(`the guest printed no ${tag} result; console ended with:\n${tail}`);
  }
  return JSON.parse(line.text.slice(prefix.length)) as T;
}
