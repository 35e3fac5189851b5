// `skyminer-image release-check`: before a release, on a machine that reaches an Alpine mirror, build an Alpine image
// for QEMU's virt machine with Alpine's own aarch64 kernel (images/release/alpine-virt-arm64.toml) and boot it to the
// console, as the emulator profiles are booted in the boot test. What CI cannot show (it reaches no Alpine mirror):
// the real packages install, linux-lts's EFI zboot kernel is unpacked and boots, the initramfs built from its
// modules.dep/softdep mounts the root, OpenRC brings the services and the network up, and the console answers.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashPassword } from '../../firmware/console/password.js';
import { buildImage, repoRoot } from '../build.js';
import { QemuSession } from '../emulator/qemu-session.js';
import { plainProgress } from './progress.js';
import type { CommandIo } from './skyminer-image.js';

export const RELEASE_CHECK_USAGE = `usage: skyminer-image release-check [--alpine-repository DIR|URL]... [--alpine-keys DIR]
                                    [--cache DIR] [--out DIR]`;

/** The release check's machine description, beside (not among) the board profiles. */
export const RELEASE_PROFILE = join('images', 'release', 'alpine-virt-arm64.toml');

const PASSWORD = 'release-check';
// Under TCG, on a build host doing other work: Alpine's Node starts in tens of seconds.
const BOOT_MS = 600_000;

export async function releaseCheckCommand(args: string[], io: CommandIo): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      options: {
        'alpine-repository': { type: 'string', multiple: true },
        'alpine-keys': { type: 'string' },
        cache: { type: 'string' },
        out: { type: 'string' },
      },
    }).values;
  } catch (err) {
    io.err(`skyminer-image release-check: ${(err as Error).message}\n${RELEASE_CHECK_USAGE}\n`);
    return 2;
  }
  const repo = repoRoot();
  const progress = plainProgress({ write: io.err });
  const step = (m: string) => progress.line(`release-check: ${m}`);
  let vm: QemuSession | undefined;
  try {
    const built = await buildImage({
      profile: join(repo, RELEASE_PROFILE),
      repo,
      outDir: v.out ?? (await mkdtemp(join(tmpdir(), 'release-check-'))),
      cacheDir: v.cache ?? join(repo, '.cache', 'images'),
      consolePasswordHash: await hashPassword(PASSWORD, { N: 4096, r: 8, p: 1 }),
      ...(v['alpine-repository'] ? { alpineRepositories: v['alpine-repository'] } : {}),
      ...(v['alpine-keys'] ? { alpineKeysDir: v['alpine-keys'] } : {}),
      compress: false,
      log: (m) => progress.line(`skyminer-image: ${m}`),
    });
    step(`built ${built.image}; booting it in QEMU (virt, TCG, i6300esb, a NIC without a DHCP server)`);
    vm = await QemuSession.start({
      image: built.image,
      arch: 'aarch64',
      extraAppend: 'skyminer.slot=1',
      network: 'isolated',
    });
    await vm.expect(/Skyminer firmware \S+ \(alpine-virt-arm64\)\r?\n/, BOOT_MS);
    step('banner shown: the kernel, initramfs, root and OpenRC came up');
    await vm.expect(/board: slot 1, role manager; supervisor: running\r?\n/, 30_000);
    await vm.expect(/password: $/, BOOT_MS);
    vm.send(`${PASSWORD}\r`);
    await vm.expect(/skyminer> /, 120_000);
    step('console login answered');
    vm.send('shell\r');
    await vm.expect(/skyminer-1:~# /, 60_000);
    await vm.quietShell(60_000);
    const checks: [string, string, RegExp][] = [
      [
        'network: the slot 1 address without DHCP',
        'ip -4 -o addr show dev eth0',
        / inet 192\.168\.0\.2\/24 /,
      ],
      [
        'OpenRC: hwdrivers and networking started',
        'for s in hwdrivers networking; do rc-service $s status 2>&1 | grep -q started && echo "$s started"; done',
        /hwdrivers started\nnetworking started/,
      ],
      [
        'modules: the NIC and the watchdog loaded',
        'grep -oE "^(virtio_net|i6300esb) " /proc/modules | sort',
        /i6300esb \nvirtio_net /,
      ],
      [
        'services: supervisor and agent running',
        'for s in supervisor agent; do pgrep -f "main.js $s" >/dev/null && echo "$s running"; done',
        /supervisor running\nagent running/,
      ],
      ['watchdog: /dev/watchdog present', 'ls /dev/watchdog', /\/dev\/watchdog/],
    ];
    let failed = 0;
    for (const [what, command, expected] of checks) {
      const out = await vm.shell(command, 60_000);
      const ok = expected.test(out);
      if (!ok) failed++;
      step(`${ok ? 'ok' : 'FAILED'}: ${what}${ok ? '' : `\n${out.trimEnd()}`}`);
    }
    if (failed) {
      io.err(`release-check: ${failed} check(s) failed; the console said:\n${vm.output.slice(-3000)}\n`);
      return 1;
    }
    io.out(`release-check: passed (${built.image})\n`);
    return 0;
  } catch (err) {
    io.err(`skyminer-image release-check: ${(err as Error).message.split('\n')[0]}\n`);
    if (vm) io.err(`the console said:\n${vm.output.slice(-3000)}\n`);
    return 1;
  } finally {
    await vm?.stop();
  }
}
