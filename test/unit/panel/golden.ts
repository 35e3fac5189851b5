import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Framebuffer, framebufferToPng, pngToFramebuffer } from '../../../drivers/ssd1306/framebuffer.js';

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/panel');

/**
 * Compares a frame with `test/fixtures/panel/<name>.png` (one PNG pixel per panel pixel). With UPDATE_GOLDEN=1
 * in the environment the file is written instead, so that a deliberate change of a page is one command, and
 * the new pictures show up in the diff for review.
 */
export async function matchesGolden(
  name: string,
  frame: Framebuffer,
): Promise<{ ok: boolean; detail: string }> {
  const path = join(GOLDEN_DIR, `${name}.png`);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path + '.tmp', framebufferToPng(frame));
    await rename(path + '.tmp', path);
    return { ok: true, detail: 'written' };
  }
  if (!existsSync(path)) return { ok: false, detail: `${path} missing; run UPDATE_GOLDEN=1 npx vitest run` };
  const golden = pngToFramebuffer(await readFile(path));
  if (golden.equals(frame)) return { ok: true, detail: 'same' };
  let differ = 0;
  for (let y = 0; y < frame.height; y++)
    for (let x = 0; x < frame.width; x++) if (golden.getPixel(x, y) !== frame.getPixel(x, y)) differ++;
  return { ok: false, detail: `${name}: ${differ} pixels differ from ${path}` };
}
