// The box network's bring-up scripts, run with the host's sh: the address decision (board-address), the slot
// known without the network (known-slot), and udhcpc's event script (dhcp-event) against a recording `ip`
// that keeps the interface's addresses in a file, so each event's effect on the interface can be read back.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../../images/profile/load.js';
import { etcModules, networkInterfaces, runlevels } from '../../../images/stages/system.js';

const run = promisify(execFile);
const SOURCE = resolve('images/overlay/common/usr/libexec/skyminer');

// The scripts as the image holds them: executable (the checkout may not say so), calling each other by path.
const LIBEXEC = await mkdtemp(join(tmpdir(), 'libexec-'));
for (const name of await readdir(SOURCE)) {
  await copyFile(join(SOURCE, name), join(LIBEXEC, name));
  await chmod(join(LIBEXEC, name), 0o755);
}

describe('board-address', () => {
  const address = async (first: string, slot: string) =>
    (await run('sh', [join(LIBEXEC, 'board-address'), first, slot])).stdout;

  it('gives board n the address first_board_address + n - 1', async () => {
    expect(await address('192.168.0.2', '1')).toBe('192.168.0.2\n');
    expect(await address('192.168.0.2', '8')).toBe('192.168.0.9\n');
    expect(await address('10.4.7.100', '64')).toBe('10.4.7.163\n');
  });

  it('refuses a board that would fall beyond the /24, and anything not an address or a slot', async () => {
    await expect(address('192.168.0.200', '64')).rejects.toMatchObject({
      code: 2,
      stderr: 'board-address: board 64 would be .263, beyond the /24 of 192.168.0.200\n',
    });
    await expect(address('192.168.0.2; reboot', '1')).rejects.toMatchObject({
      code: 2,
      stderr: 'board-address: "192.168.0.2; reboot" is not an IPv4 address\n',
    });
    await expect(address('192.168.0.2', '0')).rejects.toMatchObject({ code: 2 });
    await expect(address('192.168.0.2', 'x')).rejects.toMatchObject({ code: 2 });
  });
});

/** A scratch root holding what known-slot and dhcp-event read. */
async function scratchRoot(o: { cmdline?: string; stateSlot?: string; config?: string }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'network-'));
  await mkdir(join(root, 'proc'));
  await writeFile(join(root, 'proc', 'cmdline'), `${o.cmdline ?? 'console=ttyS0 rootwait'}\n`);
  await mkdir(join(root, 'usr', 'share', 'skyminer'), { recursive: true });
  await writeFile(
    join(root, 'usr', 'share', 'skyminer', 'skyminer.conf.base'),
    o.config ?? '[box]\nboards = 8\n\n[network]\nfirst_board_address = "10.0.5.11"\n',
  );
  await mkdir(join(root, 'etc'));
  if (o.stateSlot !== undefined) {
    await mkdir(join(root, 'var', 'lib', 'skyminer'), { recursive: true });
    await writeFile(join(root, 'var', 'lib', 'skyminer', 'slot'), `${o.stateSlot}\n`);
  }
  return root;
}

describe('known-slot', () => {
  const slot = async (root: string) => (await run('sh', [join(LIBEXEC, 'known-slot'), root])).stdout;

  it('takes the slot an earlier first boot recorded before the command line and the config', async () => {
    const root = await scratchRoot({
      stateSlot: '3',
      cmdline: 'skyminer.slot=5',
      config: '[box]\nslot = 6\n',
    });
    expect(await slot(root)).toBe('3\n');
  });

  it('takes skyminer.slot= from the command line, else box.slot from the baked config', async () => {
    expect(await slot(await scratchRoot({ cmdline: 'rootwait skyminer.slot=5 quiet' }))).toBe('5\n');
    expect(await slot(await scratchRoot({ config: '[box]\nslot = 6\nboards = 8\n' }))).toBe('6\n');
  });

  it('says nothing when no source knows the slot, or the command line holds no number', async () => {
    expect(await slot(await scratchRoot({}))).toBe('');
    expect(await slot(await scratchRoot({ cmdline: 'skyminer.slot=one' }))).toBe('');
  });
});

// The only programs dhcp-event may find: the host's ordinary tools by name, and the recording `ip` and `logger`.
// The host's own `ip` is never on its PATH, so no test can touch the build machine's interfaces.
const TOOLS = ['sh', 'sed', 'head', 'cat', 'grep', 'dirname', 'mv', 'echo'];
const IFACE = 'skytest0';

/**
 * Runs dhcp-event with a recording `ip`: every call goes to ip.log, and the interface's IPv4 addresses are kept in
 * addrs (one "a.b.c.d/nn" per line), which `ip -4 -o addr show` prints back.
 */
async function dhcpEvent(root: string, event: string, env: Record<string, string> = {}) {
  const bin = join(root, 'fake-bin');
  await mkdir(bin, { recursive: true });
  for (const tool of TOOLS) {
    const host = (await run('sh', ['-c', `command -v ${tool}`])).stdout.trim();
    if (host.startsWith('/')) await symlink(host, join(bin, tool)).catch(() => undefined);
  }
  await writeFile(
    join(bin, 'ip'),
    `#!/bin/sh
echo "ip $*" >> "${root}/ip.log"
case "$*" in
  "-4 -o addr show dev ${IFACE}") [ -f "${root}/addrs" ] && sed 's|^|2: ${IFACE}    inet |' "${root}/addrs" ;;
  "-4 addr flush dev ${IFACE}") : > "${root}/addrs" ;;
  "-4 addr add "*) echo "$4" >> "${root}/addrs" ;;
esac
exit 0
`,
  );
  await writeFile(join(bin, 'logger'), '#!/bin/sh\nexit 0\n');
  await chmod(join(bin, 'ip'), 0o755);
  await chmod(join(bin, 'logger'), 0o755);
  const r = await run(join(bin, 'sh'), [join(LIBEXEC, 'dhcp-event'), event], {
    env: { PATH: bin, SKYMINER_ROOT: root, interface: IFACE, ...env },
  });
  const addrs = await readFile(join(root, 'addrs'), 'utf8').catch(() => '');
  return { stderr: r.stderr, addrs: addrs.split('\n').filter(Boolean) };
}

describe('dhcp-event (udhcpc)', () => {
  it("takes the box's address for its slot when no DHCP server answers", async () => {
    const root = await scratchRoot({ cmdline: 'skyminer.slot=4' });
    await dhcpEvent(root, 'deconfig');
    const r = await dhcpEvent(root, 'leasefail');
    expect(r.addrs).toEqual(['10.0.5.14/24']);
    expect(r.stderr).toContain(
      "no DHCP answer: board 4 takes the box's address 10.0.5.14/24, router 10.0.5.1",
    );
    expect(await readFile(join(root, 'ip.log'), 'utf8')).toContain(
      `ip -4 route replace default via 10.0.5.1 dev ${IFACE}\n`,
    );
    // udhcpc keeps asking and fails again every round: the address stays, once.
    expect((await dhcpEvent(root, 'leasefail')).addrs).toEqual(['10.0.5.14/24']);
  });

  it('uses the default first board address when the config names none', async () => {
    const root = await scratchRoot({ stateSlot: '2', config: '[box]\nboards = 4\n' });
    expect((await dhcpEvent(root, 'leasefail')).addrs).toEqual(['192.168.0.3/24']);
  });

  it('takes the leased address, router and name servers when a DHCP server answers, even after the fallback', async () => {
    const root = await scratchRoot({ cmdline: 'skyminer.slot=1' });
    await dhcpEvent(root, 'leasefail');
    const lease = { ip: '10.77.3.40', mask: '22', router: '10.77.0.1', dns: '10.77.0.1 10.77.0.2' };
    const r = await dhcpEvent(root, 'bound', lease);
    expect(r.addrs).toEqual(['10.77.3.40/22']);
    const log = await readFile(join(root, 'ip.log'), 'utf8');
    expect(log).toContain(`ip -4 route replace default via 10.77.0.1 dev ${IFACE}\n`);
    expect(await readFile(join(root, 'etc', 'resolv.conf'), 'utf8')).toBe(
      'nameserver 10.77.0.1\nnameserver 10.77.0.2\n',
    );
    // A renewal of the same lease changes nothing.
    expect((await dhcpEvent(root, 'renew', lease)).addrs).toEqual(['10.77.3.40/22']);
  });

  it('leaves the interface without an address, and says why, when neither DHCP nor a slot is there', async () => {
    const root = await scratchRoot({});
    const r = await dhcpEvent(root, 'leasefail');
    expect(r.addrs).toEqual([]);
    expect(r.stderr).toContain('no DHCP answer and no slot known');
  });

  it('leaves no address behind when a board would fall beyond the /24', async () => {
    const root = await scratchRoot({
      cmdline: 'skyminer.slot=64',
      config: '[network]\nfirst_board_address = "192.168.0.250"\n',
    });
    const r = await dhcpEvent(root, 'leasefail');
    expect(r.addrs).toEqual([]);
    expect(r.stderr).toContain('beyond the /24 of 192.168.0.250');
  });
});

describe('network configuration in the image', () => {
  it('brings eth0 up through network-up and takes it down through network-down', () => {
    expect(networkInterfaces()).toBe(
      [
        '# The box network: DHCP when the network has a server, else first_board_address + slot - 1 (dhcp-event).',
        'auto lo',
        'iface lo inet loopback',
        '',
        'auto eth0',
        'iface eth0 inet manual',
        '\tup /usr/libexec/skyminer/network-up eth0',
        '\tdown /usr/libexec/skyminer/network-down eth0',
        '',
      ].join('\n'),
    );
  });

  it('starts networking before first boot, and on OpenRC hwdrivers in sysinit to load the drivers', () => {
    const busybox = runlevels('busybox').boot!;
    expect(busybox).toContain('networking');
    // busybox init starts a runlevel in name order: modules (the NIC driver), networking, then first boot.
    expect([...busybox].sort()).toEqual(busybox);
    expect(busybox.indexOf('modules')).toBeLessThan(busybox.indexOf('networking'));
    expect(runlevels('openrc').sysinit).toContain('hwdrivers');
    expect(runlevels('openrc').boot).toContain('networking');
  });

  it('loads the watchdog first, then the Ethernet and I2C drivers, on every Alpine board', async () => {
    for (const board of ['pine64-sopine', 'orangepi-plus', 'orangepi-prime']) {
      const text = etcModules(await loadProfile(board));
      expect(text.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
        'sunxi_wdt',
        'dwmac_sun8i',
        'i2c_mv64xxx',
        'i2c_dev',
      ]);
    }
    const emulator = etcModules(await loadProfile('qemu-virt-arm64'));
    expect(emulator.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['i6300esb', 'virtio_net']);
  });
});
