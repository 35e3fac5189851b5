import { describe, expect, it } from 'vitest';
import {
  checkConfig,
  configGenArgs,
  parseKeyPair,
  relocateConfig,
} from '../../../firmware/skywire/visor-config.js';

const HV = { pk: `03${'a'.repeat(64)}`, sk: 'b'.repeat(64) };
const ME = { pk: `02${'c'.repeat(64)}`, sk: 'd'.repeat(64) };

describe('visor config', () => {
  it('reads the key pair gen-keys prints, and refuses anything else in one line', () => {
    expect(parseKeyPair(`${HV.pk}\n${HV.sk}\n`)).toEqual(HV);
    expect(() => parseKeyPair('oops')).toThrow(
      'skywire cli config gen-keys: expected a public and a secret key',
    );
  });

  it('makes the manager the hypervisor with the firmware key, offline from the shipped services file', () => {
    expect(
      configGenArgs({
        role: 'hypervisor',
        keys: HV,
        servicesFile: '/opt/skywire/services-config.json',
        out: '/x.json',
      }),
    ).toEqual([
      'cli',
      'config',
      'gen',
      '-p',
      '-i',
      '--nofetch',
      '-S',
      '/opt/skywire/services-config.json',
      '-s',
      HV.sk,
      '-o',
      '/x.json',
      '-w',
      '-f',
    ]);
  });

  it('makes every other visor trust only the hypervisor key it was given, and none without one', () => {
    const args = configGenArgs({
      role: 'visor',
      keys: ME,
      hypervisorPk: HV.pk,
      servicesFile: 's.json',
      out: 'o',
    });
    expect(args.slice(3, 6)).toEqual(['-p', '-j', HV.pk]);
    expect(() => configGenArgs({ role: 'visor', keys: ME, servicesFile: 's', out: 'o' })).toThrow(
      'a visor config needs the hypervisor public key (66 hex digits)',
    );
  });

  it('refuses a config that trusts another hypervisor, or carries another key', () => {
    const spec = { role: 'visor' as const, keys: ME, hypervisorPk: HV.pk, servicesFile: 's', out: 'o' };
    expect(checkConfig({ pk: ME.pk, hypervisors: [HV.pk] }, spec)).toEqual([HV.pk]);
    expect(() => checkConfig({ pk: ME.pk, hypervisors: [HV.pk, ME.pk] }, spec)).toThrow(/wrote hypervisors/);
    expect(() => checkConfig({ pk: HV.pk, hypervisors: [HV.pk] }, spec)).toThrow(/wrote public key/);
  });

  it('moves the package paths and the dmsgpty socket into another folder', () => {
    const moved = relocateConfig(
      {
        local_path: '/opt/skywire/local',
        dmsgpty: { cli_address: '/tmp/dmsgpty.sock' },
        launcher: { bin_path: '/opt/skywire/bin' },
        other: ['/opt/skywirex', 3],
      },
      '/lab/b2',
    );
    expect(moved).toEqual({
      local_path: '/lab/b2/local',
      dmsgpty: { cli_address: '/lab/b2/dmsgpty.sock' },
      launcher: { bin_path: '/lab/b2/bin' },
      other: ['/opt/skywirex', 3],
    });
  });
});
