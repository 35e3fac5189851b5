import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureHypervisorAccount,
  hypervisorPasswordControl,
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

/** A hypervisor with an account, its password in a file as the manager keeps it. */
async function withAccount(password = 'Skyminer-old1') {
  const dir = await mkdtemp(join(tmpdir(), 'hv-password-'));
  const file = join(dir, 'hypervisor-password');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  const h = await fresh(password);
  return { dir, file, h, control: hypervisorPasswordControl(h.url, file) };
}

const login = (url: string, password: string) =>
  fetch(`${url}/api/login`, {
    method: 'POST',
    body: JSON.stringify({ username: 'admin', password }),
  }).then(async (r) => ({ status: r.status, body: await r.text(), cookie: r.headers.getSetCookie()[0] }));

describe("the hypervisor UI's password, the owner's to read and change", () => {
  it('shows the password the manager keeps', async () => {
    const { control } = await withAccount('Skyminer-old1');
    expect(await control.show()).toBe('Skyminer-old1');
  });

  it('changes it on the hypervisor, then in the file, and the rewards client logs in with the new one', async () => {
    const { dir, file, h, control } = await withAccount();
    const rewards = new HypervisorClient({
      url: h.url,
      password: () => readHypervisorPassword(file).then((p) => p ?? ''),
    });
    await rewards.visorsSummary();
    await control.set('Nouveau-pass2');
    expect(await readFile(file, 'utf8')).toBe('Nouveau-pass2\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['hypervisor-password']);
    expect((await login(h.url, 'Skyminer-old1')).status).toBe(401);
    expect((await login(h.url, 'Nouveau-pass2')).status).toBe(200);
    // The change ended the rewards client's session: it logs in again, reading the new password.
    const before = rewards.logins;
    await expect(rewards.visorsSummary()).resolves.toEqual([]);
    expect(rewards.logins).toBe(before + 1);
    expect(h.requests.filter((r) => r.startsWith('POST /api/change-password'))).toEqual([
      'POST /api/change-password 200',
    ]);
  });

  it("refuses a password outside the hypervisor's rules before asking it, and keeps the old one", async () => {
    const { dir, file, h, control } = await withAccount();
    for (const [bad, why] of [
      ['skywire', 'the password needs an upper-case letter, a lower-case letter, a digit and a symbol'],
      ['Ab1!', 'the password must be 6 to 64 characters'],
      ['Has space1!', 'the password must be printable ASCII without spaces'],
      ['Ünïcode-1', 'the password must be printable ASCII without spaces'],
    ]) {
      await expect(control.set(bad!)).rejects.toThrow(why);
      // The hypervisor's own rules refuse it too: the check only saves the round trip.
      expect(hypervisorPasswordProblem(bad!)).not.toBeNull();
    }
    expect(h.requests.some((r) => r.includes('change-password'))).toBe(false);
    expect(await readFile(file, 'utf8')).toBe('Skyminer-old1\n');
    expect(await readdir(dir)).toEqual(['hypervisor-password']);
  });

  it('keeps the old password in the file when the hypervisor refuses the change', async () => {
    const { dir, file, h, control } = await withAccount();
    // Someone changed it in the hypervisor UI: the file's password is no longer the account's.
    h.setPassword('Changed-inUI3');
    await expect(control.set('Nouveau-pass2')).rejects.toThrow(
      `the hypervisor does not take the password in ${file} (changed in its UI?): nothing changed`,
    );
    expect(await readFile(file, 'utf8')).toBe('Skyminer-old1\n');
    expect(await readdir(dir)).toEqual(['hypervisor-password']);
    expect((await login(h.url, 'Changed-inUI3')).status).toBe(200);
  });

  it('says there is no password yet before the manager made the account', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hv-password-'));
    const control = hypervisorPasswordControl('http://127.0.0.1:9', join(dir, 'hypervisor-password'));
    await expect(control.show()).rejects.toThrow(/^no hypervisor password in .* yet/);
    await expect(control.set('Nouveau-pass2')).rejects.toThrow(/^no hypervisor password in .* yet/);
  });

  it('finishes a change the hypervisor took just before a power cut, at the next start', async () => {
    const { file, h } = await withAccount();
    // The new password was kept beside the file and the hypervisor took it; the rename never happened.
    await writeFile(`${file}.new`, 'Nouveau-pass2\n', { mode: 0o600 });
    h.setPassword('Nouveau-pass2');
    expect(await ensureHypervisorAccount(h.url, file)).toBe('kept');
    expect(await readFile(file, 'utf8')).toBe('Nouveau-pass2\n');
  });
});

describe("the emulated hypervisor's /api/change-password, as v1.3.28 answers it", () => {
  async function session(h: EmulatedHypervisor, password: string): Promise<string> {
    const r = await login(h.url, password);
    expect(r.status).toBe(200);
    return r.cookie!.split(';')[0]!;
  }
  const change = (h: EmulatedHypervisor, cookie: string | null, body: string) =>
    fetch(`${h.url}/api/change-password`, {
      method: 'POST',
      headers: cookie ? { cookie } : {},
      body,
    }).then(async (r) => [r.status, await r.text()] as const);

  it('answers every case with the status and text of the real one, and ends every session on success', async () => {
    const h = await fresh('Skyminer-old1');
    const cookie = await session(h, 'Skyminer-old1');
    const other = await session(h, 'Skyminer-old1');
    const body = (o: unknown) => JSON.stringify(o);
    expect(
      await change(h, null, body({ old_password: 'Skyminer-old1', new_password: 'Nouveau-pass2' })),
    ).toEqual([401, '{"error":"session cookie is either non-existent, expired, or ill-formatted"}\n']);
    expect(await change(h, cookie, 'not json')).toEqual([400, '{"error":"request format is malformed"}\n']);
    expect(await change(h, cookie, body({ old_password: 'Skyminer-old1', extra: 1 }))).toEqual([
      400,
      '{"error":"request format is malformed"}\n',
    ]);
    expect(await change(h, cookie, body({ old_password: 'wrong', new_password: 'Nouveau-pass2' }))).toEqual([
      401,
      '{"error":"incorrect username or password"}\n',
    ]);
    expect(await change(h, cookie, body({ old_password: 'Skyminer-old1', new_password: 'skywire' }))).toEqual(
      [400, '{"error":"password must have at least one upper, lower, digit and special character"}\n'],
    );
    expect(
      await change(h, cookie, body({ old_password: 'Skyminer-old1', new_password: 'Nouveau-pass2' })),
    ).toEqual([200, 'true\n']);
    const after = await fetch(`${h.url}/api/user`, { headers: { cookie: other } });
    expect(after.status).toBe(401);
    expect((await login(h.url, 'Nouveau-pass2')).status).toBe(200);
  });
});
