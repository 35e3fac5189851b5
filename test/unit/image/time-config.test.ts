import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = 'images/overlay/common/usr/libexec/skyminer/time-config';

async function timeConfig(role: string, manager: string) {
  const root = await mkdtemp(join(tmpdir(), 'time-config-'));
  await run('sh', [SCRIPT, role, manager, root]);
  return {
    chrony: await readFile(join(root, 'etc/chrony/chrony.conf'), 'utf8'),
    root,
  };
}

describe('time sources written at first boot', () => {
  it('makes the manager follow the internet and serve its clock to the box subnet, even offline', async () => {
    const { chrony } = await timeConfig('manager', '192.168.0.2');
    expect(chrony.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'pool pool.ntp.org iburst',
      'local stratum 10',
      'allow 192.168.0.0/24',
      'makestep 1 3',
      'driftfile /var/lib/chrony/chrony.drift',
    ]);
  });

  it('makes every other board follow the manager alone, stepping whenever it is a second off', async () => {
    const { chrony } = await timeConfig('board', '10.1.2.2');
    expect(chrony).toContain('server 10.1.2.2 iburst\nmakestep 1 -1\n');
    expect(chrony).not.toContain('pool');
  });

  it('refuses a manager address that is not IPv4, writing nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'time-config-'));
    const attempt = run('sh', [SCRIPT, 'board', '192.168.0.2; reboot', root]);
    await expect(attempt).rejects.toMatchObject({
      code: 2,
      stderr: 'time-config: manager address "192.168.0.2; reboot" is not an IPv4 address\n',
    });
    await expect(stat(join(root, 'etc'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
