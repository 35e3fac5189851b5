import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readServicesConfig } from '../../../images/stages/skywire.js';

async function file(content: string): Promise<string> {
  const f = join(await mkdtemp(join(tmpdir(), 'services-')), 'services-config.json');
  await writeFile(f, content);
  return f;
}

const good = {
  prod: {
    dmsg_discovery: 'http://192.168.0.1:9090',
    transport_discovery: 'http://192.168.0.1:9091',
    stun_servers: [],
  },
};

describe('an image’s own Skywire services file (--skywire-services)', () => {
  it('ships a file naming the services every visor needs, byte for byte', async () => {
    const text = `${JSON.stringify(good, null, 2)}\n`;
    expect(await readServicesConfig(await file(text))).toBe(text);
  });

  it.each([
    ['{ "prod": ', /: not JSON \(/],
    ['[]', /: no "prod" section/],
    ['{"prod": []}', /: no "prod" section/],
    [
      JSON.stringify({ prod: { transport_discovery: 'http://a:1' } }),
      /prod\.dmsg_discovery must be an http\(s\) address, not undefined$/,
    ],
    [
      JSON.stringify({ prod: { dmsg_discovery: 'dmsg.example', transport_discovery: 'http://a:1' } }),
      /prod\.dmsg_discovery must be an http\(s\) address, not "dmsg\.example"$/,
    ],
    [
      JSON.stringify({ prod: { dmsg_discovery: 'http://a:1', transport_discovery: 7 } }),
      /prod\.transport_discovery .* not 7$/,
    ],
  ])('refuses %s with one line naming the file and what is wrong', async (content, reason) => {
    const f = await file(content);
    const err = (await readServicesConfig(f).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^--skywire-services ${f}: `));
    expect(err.message).toMatch(reason);
    expect(err.message).not.toContain('\n');
  });

  it('says when the file cannot be read', async () => {
    await expect(readServicesConfig('/nonexistent/services.json')).rejects.toThrow(
      '--skywire-services /nonexistent/services.json: cannot read it (ENOENT)',
    );
  });
});
