import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import type { BoardStatus } from '../../supervisor/board-state.js';
import { countByStatus, type BoxView } from '../../supervisor/view.js';
import { Canvas, CHAR_W } from '../canvas.js';

/** Short cell labels: a cell is 32 pixels wide, room for the board number and three characters. */
export const STATUS_LABEL: Record<BoardStatus, string> = {
  up: 'UP',
  booting: 'BT',
  off: 'OFF',
  suspect: 'SUS',
  failed: 'ERR',
  restarting: 'RST',
  quarantined: 'QRT',
};

/**
 * The overview page: a title line with how many boards are up, then one cell per board (four to a row).
 * An up board is a lit cell, a booting one an outline, an off one bare text; a board out of contact is an
 * outline with its label, so a glance tells them apart.
 */
export function renderOverview(view: BoxView, width = 128, height = 64): Framebuffer {
  const c = new Canvas(width, height);
  const counts = countByStatus(view);
  c.text(0, 0, 'SKYMINER');
  const summary = `${counts.up}/${view.boards.length} UP`;
  c.text(width - Canvas.textWidth(summary), 0, summary);
  c.line(0, 9, width - 1, 9);
  const rows = Math.ceil(view.boards.length / 4);
  const cellH = Math.min(15, Math.floor((height - 12) / rows) - 1);
  for (const b of view.boards) {
    const i = b.board - 1;
    const x = (i % 4) * 32;
    const y = 12 + Math.floor(i / 4) * (cellH + 1);
    drawCell(c, x, y, 31, cellH, String(b.board), STATUS_LABEL[b.status], b.status);
  }
  return c.toFramebuffer();
}

function drawCell(
  c: Canvas,
  x: number,
  y: number,
  w: number,
  h: number,
  n: string,
  label: string,
  s: BoardStatus,
): void {
  const ty = y + Math.max(0, Math.floor((h - 7) / 2));
  const lit = s === 'up';
  if (lit) c.fillRect(x, y, w, h, 1);
  else if (s !== 'off') c.rect(x, y, w, h);
  // A quarantined board gets a double frame: it stays as it is until an owner releases it.
  if (s === 'quarantined' && w > 4 && h > 4) c.rect(x + 1, y + 1, w - 2, h - 2);
  const ink = lit ? 0 : 1;
  c.text(x + 2, ty, n, 1, ink);
  c.text(x + 2 + (n.length + 1) * CHAR_W - 2, ty, label, 1, ink);
}
