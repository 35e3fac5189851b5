import { describe, expect, it } from 'vitest';
import { readmePictures } from '../../../firmware/panel/pictures.js';
import { renderPage } from '../../../firmware/panel/pages/index.js';
import type { PanelInput } from '../../../firmware/panel/panel-input.js';
import { sampleInput } from '../../../firmware/panel/sample-input.js';
import type { BoardStatus } from '../../../firmware/supervisor/board-state.js';
import { matchesGolden } from './golden.js';

async function expectGolden(
  name: string,
  input: PanelInput,
  page: Parameters<typeof renderPage>[0],
  variant: 0 | 1 = 0,
) {
  const result = await matchesGolden(name, renderPage(page, input, variant));
  expect(result.ok, result.detail).toBe(true);
}

function withStatuses(statuses: string[]): PanelInput {
  const input = sampleInput('healthy');
  return {
    ...input,
    box: {
      at: 0,
      boards: statuses.map((status, i) => ({
        board: i + 1,
        role: i === 0 ? 'manager' : 'worker',
        status: status as BoardStatus,
        forS: 0,
      })),
    },
  };
}

describe('panel pages', () => {
  // Every picture the README shows is also a golden: what the owner sees is what the tests hold.
  for (const p of readmePictures()) {
    it(`draws ${p.file} as its golden picture`, async () => {
      await expectGolden(p.file, p.input, p.page, p.variant);
    });
  }

  it('draws every status distinctly, and a status it does not know yet with a question mark', async () => {
    const input = withStatuses([
      'up',
      'booting',
      'failed',
      'quarantined',
      'off',
      'suspect',
      'restarting',
      'rebooting',
    ]);
    await expectGolden('overview-all-statuses', input, 'overview');
  });

  it('draws a 4-board box with one row of taller cells', async () => {
    await expectGolden('overview-4-boards', withStatuses(['up', 'up', 'booting', 'off']), 'overview');
  });

  it('draws a 16-board box as numbered cells without words', async () => {
    await expectGolden(
      'overview-16-boards',
      withStatuses(Array.from({ length: 16 }, (_, i) => (i % 5 ? 'up' : 'off'))),
      'overview',
    );
  });

  it('shows dashes, not zeros, for a board whose figures have not arrived', async () => {
    await expectGolden('board-no-figures', { ...sampleInput('mixed'), boards: {} }, 'board:2');
  });

  it('says the reward figures are missing rather than showing zero', async () => {
    await expectGolden('rewards-no-data', { ...sampleInput('healthy'), rewards: undefined }, 'rewards');
  });

  it('marks reward figures older than a quarter of an hour with their age', async () => {
    const input = sampleInput('healthy');
    await expectGolden(
      'rewards-stale',
      { ...input, rewards: { ...input.rewards!, ageS: 2 * 3600 + 600 } },
      'rewards',
    );
  });

  it('lists many alerts as lines, the rest counted', async () => {
    const input = sampleInput('mixed', 'down');
    const many = [...input.alerts, ...input.alerts, ...input.alerts];
    await expectGolden('alerts-many', { ...input, alerts: many }, 'alerts');
  });

  it('draws the same input to the same bytes every time', () => {
    const input = sampleInput('mixed');
    expect(renderPage('overview', input).equals(renderPage('overview', input))).toBe(true);
  });

  it('keeps every page inside the area the pixel shift leaves visible', () => {
    const input = sampleInput('mixed', 'down');
    for (const page of ['overview', 'board:1', 'board:4', 'rewards', 'alerts'] as const) {
      for (const variant of [0, 1] as const) {
        const fb = renderPage(page, input, variant);
        for (let x = 0; x < 128; x++)
          expect(fb.getPixel(x, 0) || fb.getPixel(x, 63), `${page} edge row`).toBe(false);
        for (let y = 0; y < 64; y++) {
          const edge = fb.getPixel(0, y) || fb.getPixel(1, y) || fb.getPixel(126, y) || fb.getPixel(127, y);
          expect(edge, `${page} variant ${variant} edge column at y=${y}`).toBe(false);
        }
      }
    }
  });

  it('moves the title and outlines to other pixels in the second layout variant', () => {
    const input = sampleInput('mixed');
    for (const page of ['overview', 'board:1', 'rewards'] as const) {
      const a = renderPage(page, input, 0);
      const b = renderPage(page, input, 1);
      let both = 0;
      let lit = 0;
      for (let y = 0; y < 64; y++)
        for (let x = 0; x < 128; x++) {
          if (a.getPixel(x, y)) lit++;
          if (a.getPixel(x, y) && b.getPixel(x, y)) both++;
        }
      // Most lit pixels of one variant are dark in the other.
      expect(both / lit, page).toBeLessThan(0.35);
    }
  });
});
