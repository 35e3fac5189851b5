import type { BoxView } from '../../supervisor/view.js';
import { Canvas } from '../canvas.js';
import { statusLook } from '../status-look.js';

export type CellStyle = 'outline' | 'dashed' | 'filled' | 'hatched' | 'bare';

/** An up board's cell says this instead of `UP` when its visor is down: the board is fine, Skywire is not. */
export const VISOR_DOWN_LABEL = 'SKY!';

/**
 * One cell per board, in rows of four (up to 8 boards) or two rows of as many as fit: the board number in
 * small digits and the status word, the cell's frame telling the status apart at a glance. An up board whose
 * visor is down (`visorDown`) says `SKY!` instead of `UP`, or, where no word fits, has its top right corner cut
 * by a lit notch.
 */
export function drawBoardCells(
  c: Canvas,
  box: BoxView,
  x: number,
  y: number,
  w: number,
  h: number,
  visorDown: ReadonlySet<number> = new Set(),
): void {
  const n = box.boards.length;
  const cols = n <= 8 ? 4 : Math.ceil(n / 2);
  const rows = Math.ceil(n / cols);
  const cw = Math.floor((w + 1) / cols);
  const ch = Math.floor((h + 1) / rows);
  box.boards.forEach((b, i) => {
    const cx = x + (i % cols) * cw;
    const cy = y + Math.floor(i / cols) * ch;
    drawCell(c, cx, cy, cw - 1, ch - 1, b.board, b.status, b.status === 'up' && visorDown.has(b.board));
  });
}

function drawCell(
  c: Canvas,
  x: number,
  y: number,
  w: number,
  h: number,
  board: number,
  status: string,
  visorDown: boolean,
): void {
  const look = statusLook(status);
  const label = visorDown ? VISOR_DOWN_LABEL : look.label;
  switch (look.style) {
    case 'outline':
      c.rect(x, y, w, h);
      break;
    case 'dashed':
      c.dashedRect(x, y, w, h);
      break;
    case 'filled':
      c.fillRect(x, y, w, h, 1);
      break;
    case 'hatched':
      c.rect(x, y, w, h).hatchRect(x + 1, y + 1, w - 2, h - 2);
      break;
    case 'bare':
      break;
  }
  const lit = look.style === 'filled';
  const ty = y + Math.floor((h - 7) / 2);
  // Number and word need a dark ground to be read inside a hatched or filled cell.
  const numberW = Canvas.tinyWidth(board);
  const labelW = Canvas.textWidth(label);
  const fitsLabel = w >= numberW + labelW + 4;
  if (look.style === 'hatched')
    c.fillRect(x + 1, y + 1, fitsLabel ? numberW + labelW + 3 : numberW + 2, h - 2, 0);
  c.tinyNumber(x + 2, y + Math.floor((h - 5) / 2), board);
  if (fitsLabel) c.text(x + 2 + numberW + 1, ty, label);
  else if (visorDown) for (let i = 0; i < 3; i++) c.line(x + w - 4 + i, y + 1, x + w - 2, y + 3 - i);
  if (lit) c.invertRect(x + 1, y + 1, w - 2, h - 2);
}
