import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureHypervisorAccount,
  makeHypervisorPassword,
  passwordProblem,
  readHypervisorPassword,
} from '../../../firmware/skywire/hypervisor-account.js';
import {
  EmulatedHypervisor,
  hypervisorPasswordProblem,
} from '../../../firmware/skywire/emulated-hypervisor.js';
import { HypervisorClient } from '../../../firmware/skywire/hypervisor-client.js';

let hv: EmulatedHypervisor | undefined;
afterEach(async () => {
  await hv?.stop();
  hv = undefined;
});

async function fresh(password: string | null = null): Promise<EmulatedHypervisor> {
  hv = new EmulatedHypervisor({ visors: () => [], password });
  await hv.start();
  return hv;
}

describe("the hypervisor's account, made by the manager itself", () => {
  it("makes passwords the hypervisor's own rules take, never the same twice", () => {
    const made = Array.from({ length: 50 }, makeHypervisorPassword);
    for (const p of made) {
      expect(passwordProblem(p)).toBeNull();
      expect(hypervisorPasswordProblem(p)).toBeNull();
    }
    expect(new Set(made).size).toBe(50);
    expect(passwordProblem('skywire')).toBe(
      'the password needs an upper-case letter, a lower-case letter, a digit and a symbol',
    );
    expect(passwordProblem('Ab1!')).toBe('the password must be 6 to 64 characters');
  });

  it('takes the account of a fresh hypervisor with a stored password, then keeps it across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hv-account-'));
    const file = join(dir, 'hypervisor-password');
    const h = await fresh();
    expect(await ensureHypervisorAccount(h.url, file)).toBe('created');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const password = await readHypervisorPassword(file);
    expect(passwordProblem(password!)).toBeNull();
    expect(await ensureHypervisorAccount(h.url, file)).toBe('kept');
    expect(await readHypervisorPassword(file)).toBe(password);
    // The rewards side reads the file at each login, so a password changed there is taken without a restart.
    const client = new HypervisorClient({
      url: h.url,
      password: () => readFile(file, 'utf8').then((t) => t.trim()),
    });
    await expect(client.visorsSummary()).resolves.toEqual([]);
  });

  it('says how to recover when someone else made the account first, instead of guessing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hv-account-'));
    const file = join(dir, 'hypervisor-password');
    await writeFile(file, 'Mine-pass1\n');
    const h = await fresh('Theirs-pass1');
    await expect(ensureHypervisorAccount(h.url, file)).rejects.toThrow(
      `the hypervisor's account does not take the password in ${file}: it was made outside the firmware`,
    );
  });
});
