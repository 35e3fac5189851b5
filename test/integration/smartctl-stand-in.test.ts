import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnRunner } from '../../drivers/disks/command-runner.js';
import { readSmart } from '../../drivers/disks/smartctl.js';
import { smartVerdict } from '../../firmware/disks/smart-verdict.js';

const fixtures = fileURLToPath(new URL('../fixtures/smartctl/', import.meta.url));

/** A stand-in for smartctl, as the simulator uses: prints a recorded report and exits with its status. */
async function standIn(body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smartctl-'));
  const path = join(dir, 'smartctl');
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe('smartctl through a real process', () => {
  it('reads a recorded failing disk through a stand-in executable', async () => {
    const command = await standIn(`cat '${fixtures}smart-fail2.json'; exit 216`);
    const reading = await readSmart('/dev/sdc', { runner: spawnRunner, command });
    expect(reading.exitStatus).toBe(216);
    expect(smartVerdict(reading, null).verdict).toBe('failing');
  });

  it('passes the device and -n standby to the executable', async () => {
    const command = await standIn(
      'printf \'{"smartctl":{"messages":[{"string":"%s"}],"exit_status":0}}\' "$*"',
    );
    const reading = await readSmart('/dev/sdb', { command });
    expect(reading.messages).toEqual(['-a -j -n standby /dev/sdb']);
  });

  it('gives unknown, not a crash, when the executable does not exist', async () => {
    const reading = await readSmart('/dev/sda', { command: '/nonexistent/smartctl' });
    expect(smartVerdict(reading, null)).toMatchObject({
      verdict: 'unknown',
      reasons: ['/nonexistent/smartctl is not installed'],
    });
  });

  it('kills a smartctl that hangs on a bad disk after its time limit', async () => {
    const command = await standIn('exec sleep 30');
    const started = Date.now();
    const reading = await readSmart('/dev/sda', { command, timeoutMs: 300 });
    expect(reading.error).toBe(`${command} timed out after 0.3 s`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
