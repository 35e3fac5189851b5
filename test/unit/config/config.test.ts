import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, parseConfigText } from '../../../firmware/config/load.js';

const bad = (text: string) => () => parseConfigText(text, 'skyminer.conf');

describe('config', () => {
  it('fills every key from the defaults of the shipped box', () => {
    const c = parseConfigText('', 'skyminer.conf');
    expect(c.box.boards).toBe(8);
    expect(c.panel.address).toBe(0x3c);
    expect(c.supervisor.power_on_gap_ms).toBe(1000);
    expect(c.network.manager_address).toBe('192.168.0.2');
  });

  it('reads hexadecimal addresses and nested tables', () => {
    const c = parseConfigText('[panel]\naddress = 0x3d\nheight = 32\n[box]\nboards = 4\n', 'f');
    expect(c.panel.address).toBe(0x3d);
    expect(c.panel.height).toBe(32);
    expect(c.box.boards).toBe(4);
  });

  it('accepts any multiple of 4 boards and refuses other counts', () => {
    expect(parseConfigText('[box]\nboards = 12', 'f').box.boards).toBe(12);
    expect(bad('[box]\nboards = 6')).toThrow('skyminer.conf: box.boards: expected a multiple of 4');
    expect(bad('[box]\nboards = 0')).toThrow(/box\.boards: .*>=4/);
  });

  it('names an unknown key by its full path', () => {
    expect(bad('[panel]\ncolour = "blue"')).toThrow('skyminer.conf: unknown key panel.colour');
    expect(bad('boardz = 8')).toThrow('skyminer.conf: unknown key boardz');
  });

  it('names the key and the expected type when a value has the wrong type', () => {
    expect(bad('[box]\nboards = "8"')).toThrow(/^skyminer\.conf: box\.boards: .*expected number.*got "8"$/);
  });

  it('names the key and the range when a value is out of range', () => {
    expect(bad('[panel]\naddress = 200')).toThrow(/panel\.address: .*<=119.*got 200/);
    expect(bad('[network]\nheartbeat_port = 70000')).toThrow(/network\.heartbeat_port/);
  });

  it('refuses addresses that are not addresses, and boards numbered past .254', () => {
    expect(bad('[network]\nmanager_address = "999.999.999.999"')).toThrow(
      'skyminer.conf: network.manager_address: expected an IPv4 address: each part 0 to 255',
    );
    expect(bad('[box]\nboards = 8\n[network]\nfirst_board_address = "192.168.0.250"')).toThrow(
      "skyminer.conf: network.first_board_address: board 8 would be at .257: the boards' addresses must end at .254 at most",
    );
    expect(parseConfigText('[network]\nfirst_board_address = "192.168.0.247"', 'f').box.boards).toBe(8);
  });

  it('refuses more [[gpio.boards]] than worker boards, and a line named neither by offset nor by name', () => {
    const entry =
      '[[gpio.boards]]\npower = { chip = "gpiochip0", offset = 1 }\nreset = { chip = "gpiochip0", offset = 2 }\n';
    expect(parseConfigText('[box]\nboards = 4\n' + entry.repeat(3), 'f').gpio.boards).toHaveLength(3);
    expect(bad('[box]\nboards = 4\n' + entry.repeat(4))).toThrow(
      'skyminer.conf: gpio.boards: 4 entries for a 4-board box: at most 3 (board 1, the manager, has no lines)',
    );
    expect(
      bad('[[gpio.boards]]\npower = { chip = "gpiochip0" }\nreset = { chip = "gpiochip0", offset = 2 }\n'),
    ).toThrow('skyminer.conf: gpio.boards.0.power: expected the line by offset or by name');
  });

  it('names the allowed values of an enumeration', () => {
    expect(bad('[gpio]\nbackend = "legacy"')).toThrow(/gpio\.backend: .*"chardev"\|"sysfs"/);
  });

  it('reads the Skywire and rewards sections and refuses a bad URL or minimum version', () => {
    const c = parseConfigText(
      '[skywire]\nhypervisor_url = "http://admin:pw@192.168.0.2:8000"\n[rewards]\nmin_version = "v1.3.29"\n',
      'f',
    );
    expect(c.skywire.hypervisor_url).toBe('http://admin:pw@192.168.0.2:8000');
    expect(c.rewards.min_version).toBe('v1.3.29');
    expect(c.rewards.uptime_threshold_pct).toBe(75);
    expect(bad('[skywire]\nskycoin_url = "ftp://node"')).toThrow(
      'skyminer.conf: skywire.skycoin_url: expected an http:// or https:// URL, got "ftp://node"',
    );
    expect(bad('[rewards]\nmin_version = "new"')).toThrow(
      /rewards\.min_version: expected a version such as v1\.3\.26/,
    );
  });

  it('takes the version floor with the UTC day it applies from, and refuses a day that does not exist', () => {
    const c = parseConfigText('[rewards]\nmin_version = "v1.3.50"\nmin_version_from = "2026-05-22"\n', 'f');
    expect(c.rewards.min_version_from).toBe('2026-05-22');
    expect(parseConfigText('', 'f').rewards.min_version_from).toBe('');
    for (const day of ['2026-02-30', '22/05/2026', '2026-5-22', 'soon'])
      expect(bad(`[rewards]\nmin_version_from = "${day}"`)).toThrow(
        /rewards\.min_version_from: expected a date such as 2026-05-22/,
      );
  });

  it('gives the line and column of a file that is not TOML', () => {
    expect(bad('[box\nboards = 8')).toThrow(/^skyminer\.conf:1:\d+: not valid TOML/);
  });

  it('refuses an endless or huge file after reading at most a megabyte', async () => {
    await expect(loadConfig('/dev/zero')).rejects.toThrow(
      '/dev/zero: longer than 1048576 bytes; not a config file',
    );
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    await writeFile(join(dir, 'big.conf'), '#'.repeat(2 << 20));
    await expect(loadConfig(join(dir, 'big.conf'))).rejects.toThrow(/big\.conf: longer than 1048576 bytes/);
  });

  it('refuses a missing file with one line and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'conf-'));
    await expect(loadConfig(join(dir, 'missing.conf'))).rejects.toThrow(ConfigError);
    await expect(loadConfig(join(dir, 'missing.conf'))).rejects.toThrow(
      /missing\.conf: cannot read \(ENOENT\)/,
    );
    await writeFile(join(dir, 'bad.conf'), '[box]\nboards = 5\n');
    await expect(loadConfig(join(dir, 'bad.conf'))).rejects.toThrow(/box\.boards/);
    expect(await readdir(dir)).toEqual(['bad.conf']);
  });

  it('validates the simulator built-in overrides the same way', () => {
    expect(defaultConfig({ box: { boards: 4 } }).box.boards).toBe(4);
    expect(() => defaultConfig({ box: { boards: 7 } })).toThrow(/built-in config: box\.boards/);
  });
});
