import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import { Canvas } from '../canvas.js';
import { duration, gigabytes, percent, rate, rateUnit } from '../format.js';
import type { DiskVerdict, PanelInput } from '../panel-input.js';
import { statusLook, visorLook } from '../status-look.js';
import { Placer, SAFE, stack } from './layout.js';

const DISK_WORD: Record<DiskVerdict, string> = {
  ok: 'OK',
  warning: 'WARN',
  failing: 'FAILING',
  hot: 'HOT',
  none: 'NONE',
  unknown: '?',
};

/**
 * One board: its state and role, CPU % and temperature large, RAM used of total and its visor's state beside it,
 * network, disk, uptime.
 */
export function renderBoard(input: PanelInput, board: number, variant: 0 | 1 = 0): Framebuffer {
  const c = new Canvas(128, 64);
  const m = new Placer(c, variant);
  const view = input.box.boards.find((b) => b.board === board);
  const f = input.boards[board];
  const role = (f?.role ?? view?.role ?? 'worker').toUpperCase();
  const word = statusLook(view?.status ?? 'unknown').word;
  const { unit, divisor } = rateUnit(f?.netRxBytesPerS, f?.netTxBytesPerS);
  const temp = f?.tempC === undefined ? '--' : String(Math.round(f.tempC));
  const total = f?.ramTotalBytes === undefined ? '--' : gigabytes(f.ramTotalBytes);
  const disk = f?.disk;

  stack(
    [
      {
        h: 7,
        gap: 4,
        draw: (y) => {
          const long = `BOARD ${board} ${role}`;
          const fits = Canvas.textWidth(long) + Canvas.textWidth(word) + 6 <= SAFE.x1 - SAFE.x0 + 1;
          m.text(SAFE.x0, y, fits ? long : `B${board} ${role}`);
          m.textRight(SAFE.x1, y, word);
        },
      },
      {
        h: 14,
        gap: 3,
        draw: (y) => {
          m.figure(SAFE.x0, y, percent(f?.cpuPct), '%', 'CPU');
          m.figure(66, y, temp, '°C', 'TEMP');
        },
      },
      {
        h: 14,
        gap: 3,
        draw: (y) => {
          const w = m.figure(SAFE.x0, y, gigabytes(f?.ramUsedBytes), 'GB USED', `OF ${total} GB`);
          // The visor's state in the room the RAM figure leaves, labelled like a figure's unit and name.
          const words = ['VISOR', visorLook(f?.visor).word];
          const right = Math.max(...words.map((t) => Canvas.textWidth(t)));
          if (SAFE.x0 + w + 6 + right > SAFE.x1 + 1) return;
          m.textRight(SAFE.x1, y, words[0]!);
          m.textRight(SAFE.x1, y + 7, words[1]!);
        },
      },
      {
        h: 7,
        gap: 3,
        draw: (y) =>
          m.text(
            SAFE.x0,
            y,
            `IN ${rate(f?.netRxBytesPerS, divisor)} OUT ${rate(f?.netTxBytesPerS, divisor)} ${unit}`,
          ),
      },
      {
        h: 7,
        draw: (y) => {
          const used = disk?.usedPct === undefined ? '' : ` ${percent(disk.usedPct)}%`;
          const verdict = !disk || disk.verdict === 'none' ? 'NO DISK' : `DISK ${DISK_WORD[disk.verdict]}`;
          const uptime = `UP ${duration(f?.uptimeS ?? view?.uptimeS)}`;
          // The verdict matters more than how full the disk is: the percentage goes when the line is too long.
          const fits =
            Canvas.textWidth(verdict + used) + Canvas.textWidth(uptime) + 6 <= SAFE.x1 - SAFE.x0 + 1;
          m.text(SAFE.x0, y, fits ? verdict + used : verdict);
          m.textRight(SAFE.x1, y, uptime);
        },
      },
    ],
    variant,
  );
  return c.toFramebuffer();
}
