// The system files every image gets, whatever its base: accounts (no password), the baked device config, the
// services and their runlevels, the serial console, first boot, watchdog module and log rotation.
import { lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'smol-toml';
import { parseConfig } from '../../firmware/config/load.js';
import type { Config } from '../../firmware/config/schema.js';
import { PASSWORD_FILE, parseHash } from '../../firmware/console/password.js';
import type { Profile } from '../profile/schema.js';
import type { StagingTree } from '../rootfs/staging.js';

export type InitSystem = 'busybox' | 'openrc';

export interface SystemOptions {
  profile: Profile;
  init: InitSystem;
  firmwareVersion: string;
  /** crypt(3) hash for root; absent: the console stays locked until the owner sets one. */
  passwordHash?: string;
  /** The skyminer console's password (scrypt, as `hashPassword` writes it); absent: chosen at first use. */
  consolePasswordHash?: string;
  sshKeys: readonly string[];
  /** The box secret (64 hex digits) for every board flashed from this image; absent: the manager draws one. */
  boxSecret?: string;
  /** Whether the firmware has a `skyminer console` command to run on the serial port. */
  hasConsole: boolean;
  overlayDir: string;
}

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** A hash crypt(3) understands ($6$ sha512, $5$, $y$ yescrypt, $2b$ bcrypt); a plain password is refused. */
export function checkPasswordHash(hash: string): string {
  if (!/^\$(1|5|6|y|2[aby])\$[./A-Za-z0-9$=,]+$/.test(hash) || hash.includes(':'))
    throw new OptionError(
      '--password-hash: expected a crypt(3) hash such as the output of `openssl passwd -6`, not a password',
    );
  return hash;
}

/** The console's own hash format (firmware/console/password.ts), never a password in the clear. */
export function checkConsolePasswordHash(hash: string): string {
  if (parseHash(hash) === null)
    throw new OptionError(
      '--console-password-hash: expected a scrypt$N$r$p$salt$key line as the console stores it, not a password',
    );
  return hash.trim();
}

/** A box secret as the agents read it: 64 hex digits (32 random bytes), one line. */
export function checkBoxSecret(text: string, file: string): string {
  const secret = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(secret))
    throw new OptionError(
      `--box-secret: ${file} must hold 64 hex digits (32 random bytes), e.g. from \`head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'\``,
    );
  return secret.toLowerCase();
}

export function checkSshKey(key: string): string {
  const line = key.trim();
  if (
    line.includes('\n') ||
    !/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(line)
  )
    throw new OptionError(`--ssh-key: expected one OpenSSH public key line, got "${line.slice(0, 30)}..."`);
  return line;
}

/**
 * The device config with [box] first (the first boot adds this board's slot under it). Keys live in the state
 * directory unless the profile says otherwise. The box secret is baked in only when the build is given one
 * (an image for one box); otherwise the manager's first boot draws it. The agent derives the board's key from it.
 */
export function bakedConfig(profile: Profile): Config {
  const given = profile.firmware_config;
  const stateDir = (given.supervisor as { state_dir?: string } | undefined)?.state_dir ?? '/var/lib/skyminer';
  const auth = {
    box_secret: `${stateDir}/box.secret`,
    board_key: `${stateDir}/board.key`,
    // `attach N` on the manager: ssh as root with a key every board trusts from its enrolment.
    attach_key: `${stateDir}/attach_ed25519`,
    authorized_keys: '/root/.ssh/authorized_keys',
    ...(given.auth as Record<string, unknown> | undefined),
  };
  return parseConfig({ ...given, auth }, `${profile.name}: firmware_config`);
}

export function bakedConfigText(profile: Profile): string {
  const { box, ...rest } = bakedConfig(profile);
  const head = `# Skyminer device config, baked for ${profile.name}. The first boot adds this board's slot to [box].\n`;
  const boxTable = stringify({ box: { boards: box.boards } });
  return `${head}${boxTable}\n\n${stringify(rest)}\n`;
}

export function imageRelease(o: SystemOptions): string {
  const p = o.profile;
  return [
    `PROFILE=${p.name}`,
    `ARCH=${p.arch}`,
    `FIRMWARE_VERSION=${o.firmwareVersion}`,
    `CONSOLE=${p.console.device}`,
    `BAUD=${p.console.baud}`,
    `WATCHDOG_MODULE=${p.watchdog.module ?? ''}`,
    `WATCHDOG_TIMEOUT=${p.watchdog.timeout_s}`,
    `SKYMINER_CONSOLE=${o.hasConsole ? 'yes' : 'no'}`,
    '',
  ].join('\n');
}

/** The wired interface every board and emulator profile brings up. */
export const NETWORK_INTERFACE = 'eth0';

/**
 * /etc/network/interfaces: read by OpenRC's `networking` (through ifup) on the Alpine boards and by the emulator
 * profiles' own `networking`. The link takes a DHCP lease when the network has a server and otherwise the box's
 * address for this board (network-up, dhcp-event), so the box works behind any router and with none.
 */
export function networkInterfaces(): string {
  const i = NETWORK_INTERFACE;
  return [
    '# The box network: DHCP when the network has a server, else first_board_address + slot - 1 (dhcp-event).',
    'auto lo',
    'iface lo inet loopback',
    '',
    `auto ${i}`,
    `iface ${i} inet manual`,
    `\tup /usr/libexec/skyminer/network-up ${i}`,
    `\tdown /usr/libexec/skyminer/network-down ${i}`,
    '',
  ].join('\n');
}

/** /etc/modules: the watchdog driver first, then the profile's other boot modules (those no modalias loads). */
export function etcModules(p: Profile): string {
  const names = [p.watchdog.module, ...p.kernel.boot_modules].filter((m): m is string => !!m);
  return `# The board's watchdog driver, then drivers no device alias loads.\n${[...new Set(names)].join('\n')}\n`;
}

/** Services per runlevel, in start order (busybox init starts them in name order, OpenRC by dependencies). */
export function runlevels(init: InitSystem): Record<string, string[]> {
  return init === 'busybox'
    ? {
        boot: ['modules', 'networking', 'skyminer-firstboot', 'syslog'],
        default: ['skyminer-agent', 'skyminer-supervisor', 'skyminer-update'],
      }
    : {
        // hwdrivers loads the drivers of the hardware present (Ethernet, the I2C controller, USB) by modalias.
        sysinit: ['devfs', 'dmesg', 'mdev', 'hwdrivers'],
        boot: ['modules', 'hostname', 'syslog', 'networking', 'skyminer-firstboot', 'bootmisc'],
        // chronyd with the sources first boot wrote (time-config); dropbear for --ssh-key and `attach`.
        default: ['chronyd', 'dropbear', 'skyminer-agent', 'skyminer-supervisor', 'skyminer-update'],
        shutdown: ['mount-ro', 'killprocs'],
      };
}

/** The text of a file already in the tree (staged by the base), or undefined. */
async function stagedText(tree: StagingTree, path: string): Promise<string | undefined> {
  const e = tree.get(path);
  if (!e || e.kind !== 'file') return undefined;
  return 'source' in e ? readFile(e.source, 'utf8') : e.data.toString();
}

async function stageDir(tree: StagingTree, host: string, at: string): Promise<void> {
  for (const name of (await readdir(host)).sort()) {
    const h = join(host, name);
    const p = `${at}/${name}`;
    const st = await lstat(h);
    if (st.isDirectory()) {
      tree.dir(p);
      await stageDir(tree, h, p);
    } else {
      // Scripts are executable whatever the checkout's mode; data files are not.
      const text = await readFile(h);
      const mode = text.subarray(0, 2).toString() === '#!' ? 0o755 : 0o644;
      tree.file(p, text, { mode });
    }
  }
}

export async function stageSystem(tree: StagingTree, o: SystemOptions): Promise<void> {
  const p = o.profile;
  await stageDir(tree, join(o.overlayDir, 'common'), '');
  await stageDir(tree, join(o.overlayDir, o.init), '');
  for (const d of [
    '/proc',
    '/sys',
    '/dev',
    '/run',
    '/tmp',
    '/boot',
    '/mnt',
    '/var/log',
    '/var/lib/skyminer',
    '/etc/skyminer',
  ])
    tree.dir(d);
  tree.dir('/tmp', { mode: 0o1777 });
  tree.dir('/root', { mode: 0o700 });

  // A base with accounts of its own (Alpine's baselayout, whose users own files and which package scripts
  // extend at first boot) keeps them; only root's password entry is the build's.
  const basePasswd = await stagedText(tree, '/etc/passwd');
  if (basePasswd === undefined) {
    tree.file(
      '/etc/passwd',
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n',
    );
    tree.file('/etc/group', 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  }
  // "*": no password can match, so the console is locked until the owner sets one (see apply-boot-secrets).
  const rootShadow = `root:${o.passwordHash ?? '*'}:0:0:99999:7:::`;
  const baseShadow = basePasswd === undefined ? undefined : await stagedText(tree, '/etc/shadow');
  const shadowEntry = tree.get('/etc/shadow');
  if (baseShadow === undefined || !shadowEntry) {
    tree.file('/etc/shadow', `${rootShadow}\nnobody:*:0:0:99999:7:::\n`, { mode: 0o600 });
  } else {
    const others = baseShadow.split('\n').filter((l) => l && !l.startsWith('root:'));
    tree.file('/etc/shadow', [rootShadow, ...others, ''].join('\n'), {
      mode: shadowEntry.mode,
      uid: shadowEntry.uid,
      gid: shadowEntry.gid,
    });
  }
  if (o.sshKeys.length > 0) {
    tree.dir('/root/.ssh', { mode: 0o700 });
    tree.file('/root/.ssh/authorized_keys', o.sshKeys.join('\n') + '\n', { mode: 0o600 });
  }
  tree.file('/etc/hostname', 'skyminer\n');
  tree.file('/etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  tree.file('/etc/profile', "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nexport PS1='\\h:\\w\\$ '\n");
  tree.file('/etc/skyminer/image-release', imageRelease(o));
  tree.file('/usr/share/skyminer/skyminer.conf.base', bakedConfigText(p));
  tree.file('/etc/skyminer/skyminer.conf', bakedConfigText(p));
  // No password is ever in the image unless the build was given its hash: without one there is no password file,
  // and the first person at the serial console chooses the password (firmware/console/console.ts).
  const baked = bakedConfig(p);
  const stateDir = baked.supervisor.state_dir;
  tree.dir(stateDir, { mode: 0o700 });
  if (o.consolePasswordHash !== undefined)
    tree.file(`${stateDir}/${PASSWORD_FILE}`, `${o.consolePasswordHash}\n`, { mode: 0o600 });
  if (o.boxSecret !== undefined) {
    const path = baked.auth.box_secret;
    if (!tree.get(dirname(path))) tree.dir(dirname(path), { mode: 0o700 });
    tree.file(path, `${o.boxSecret}\n`, { mode: 0o600 });
  }
  // Where `skyminer update` finds U-Boot's environment (fw_setenv's format): sunxi U-Boot keeps it in uboot.env
  // on the boot partition (CONFIG_ENV_IS_IN_FAT, 128 KiB, one copy); a U-Boot outside the card where the profile
  // says (QEMU's virt flash). Machines without U-Boot get none.
  if (p.bootloader.kind === 'sunxi') tree.file('/etc/fw_env.config', '/boot/uboot.env 0x0 0x20000\n');
  else if (p.bootloader.environment) tree.file('/etc/fw_env.config', `${p.bootloader.environment}\n`);
  tree.file('/etc/modules', etcModules(p));
  tree.file('/etc/network/interfaces', networkInterfaces());
  tree.file(
    '/etc/inittab',
    [
      '# Serial console: the banner, then the login prompt.',
      ...(o.init === 'busybox'
        ? ['::sysinit:/etc/init.d/rcS']
        : ['::sysinit:/sbin/openrc sysinit', '::sysinit:/sbin/openrc boot', '::wait:/sbin/openrc default']),
      `${p.console.device}::respawn:/usr/libexec/skyminer/serial-console ${p.console.device} ${p.console.baud}`,
      '::ctrlaltdel:/sbin/reboot',
      o.init === 'busybox' ? '::shutdown:/etc/init.d/rcK' : '::shutdown:/sbin/openrc shutdown',
      '',
    ].join('\n'),
  );
  if (o.init === 'openrc') {
    tree.file('/etc/conf.d/syslog', 'SYSLOGD_OPTS="-t -s 512 -b 4"\n');
    tree.file('/etc/securetty', `${p.console.device}\n`);
  }
  for (const [level, services] of Object.entries(runlevels(o.init))) {
    tree.dir(`/etc/runlevels/${level}`);
    for (const s of services) tree.symlink(`/etc/runlevels/${level}/${s}`, `/etc/init.d/${s}`);
  }
}
