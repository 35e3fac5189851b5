import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import type { PanelInput } from '../panel-input.js';
import { renderAlerts } from './alerts.js';
import { renderBoard } from './board.js';
import { renderOverview } from './overview.js';
import { renderRewards } from './rewards.js';

/** A page: `overview`, `rewards`, `alerts`, or `board:N` for board N. */
export type PageName = 'overview' | 'rewards' | 'alerts' | `board:${number}`;

/** Reads a page name as an owner may type it (`board:3`, `board3`, `Overview`); null when there is no such page. */
export function parsePageName(name: string, boards: number): PageName | null {
  const s = name.trim().toLowerCase();
  if (s === 'overview' || s === 'rewards' || s === 'alerts') return s;
  const m = /^board[:\-\s]?(\d{1,2})$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= boards ? `board:${n}` : null;
}

/** Every page of a box with `boards` boards, in cycle order. */
export function allPages(boards: number): PageName[] {
  const pages: PageName[] = ['overview'];
  for (let n = 1; n <= boards; n++) pages.push(`board:${n}`);
  pages.push('rewards', 'alerts');
  return pages;
}

/** Draws one page (128x64) from the panel's input. Pure: the same input gives the same bytes. */
export function renderPage(name: PageName, input: PanelInput, variant: 0 | 1 = 0): Framebuffer {
  switch (name) {
    case 'overview':
      return renderOverview(input, variant);
    case 'rewards':
      return renderRewards(input, variant);
    case 'alerts':
      return renderAlerts(input, variant);
    default:
      return renderBoard(input, Number(name.slice('board:'.length)), variant);
  }
}
