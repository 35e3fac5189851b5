// `make panel-pictures`: draws every page from the sample box into docs/panel/, as the glass shows them.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { framebufferToPng } from '../../drivers/ssd1306/framebuffer.js';
import type { PanelInput } from './panel-input.js';
import { renderPage, type PageName } from './pages/index.js';
import { sampleInput } from './sample-input.js';

/** The pictures the README shows: file name (without .png), page and input. */
export function readmePictures(): { file: string; page: PageName; input: PanelInput; variant: 0 | 1 }[] {
  const mixed = sampleInput('mixed');
  const healthy = sampleInput('healthy');
  return [
    { file: 'overview', page: 'overview', input: mixed, variant: 0 },
    { file: 'overview-healthy', page: 'overview', input: healthy, variant: 0 },
    { file: 'overview-variant', page: 'overview', input: mixed, variant: 1 },
    { file: 'board', page: 'board:1', input: mixed, variant: 0 },
    { file: 'board-failing-disk', page: 'board:4', input: mixed, variant: 0 },
    { file: 'board-failed', page: 'board:5', input: mixed, variant: 0 },
    { file: 'board-visor-down', page: 'board:6', input: mixed, variant: 0 },
    { file: 'rewards', page: 'rewards', input: mixed, variant: 0 },
    { file: 'alerts', page: 'alerts', input: mixed, variant: 0 },
    {
      file: 'alerts-two',
      page: 'alerts',
      input: { ...healthy, alerts: mixed.alerts.slice(0, 2) },
      variant: 0,
    },
  ];
}

/** Writes each picture at `scale` pixels per panel pixel (written whole, then renamed into place). */
export async function writePanelPictures(dir: string, scale = 4): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const p of readmePictures()) {
    const path = join(dir, `${p.file}.png`);
    await writeFile(path + '.tmp', framebufferToPng(renderPage(p.page, p.input, p.variant), { scale }));
    await rename(path + '.tmp', path);
    written.push(path);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? 'docs/panel';
  for (const path of await writePanelPictures(dir)) console.log(path);
}
