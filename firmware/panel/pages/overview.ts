import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import { Canvas } from '../canvas.js';
import { compact, gigabytes, percent, rate, rateUnit } from '../format.js';
import type { BoardFigures, PanelInput } from '../panel-input.js';
import { visorLook } from '../status-look.js';
import { drawBoardCells } from './cells.js';
import { Placer, SAFE, stack } from './layout.js';

const RIGHT = 60;

/**
 * The overview: one cell per board (an up board whose visor is down marked as such), then the box's key figures
 * in large digits (total CPU %, RAM used in GB, estimated SKY per hour), bandwidth in and out, the uplink state
 * and the number of alerts.
 */
export function renderOverview(input: PanelInput, variant: 0 | 1 = 0): Framebuffer {
  const c = new Canvas(128, 64);
  const m = new Placer(c, variant);
  const figures = input.box.boards
    .map((b) => input.boards[b.board])
    .filter((f): f is BoardFigures => f !== undefined);
  const cpus = figures.map((f) => f.cpuPct).filter((v): v is number => v !== undefined);
  const cpu = cpus.length ? cpus.reduce((a, b) => a + b, 0) / cpus.length : undefined;
  const sum = (pick: (f: BoardFigures) => number | undefined): number | undefined => {
    const values = figures.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
  };
  const ram = sum((f) => f.ramUsedBytes);
  const rx = sum((f) => f.netRxBytesPerS);
  const tx = sum((f) => f.netTxBytesPerS);
  const perHour = input.rewards?.skyPerHour;
  const { unit, divisor } = rateUnit(rx, tx);
  const up = input.box.boards.filter((b) => b.status === 'up').length;
  const visorDown = new Set(
    input.box.boards.filter((b) => visorLook(input.boards[b.board]?.visor).down).map((b) => b.board),
  );

  stack(
    [
      {
        h: 18,
        gap: 2,
        draw: (y) => drawBoardCells(c, input.box, SAFE.x0, y, SAFE.x1 - SAFE.x0 + 1, 18, visorDown),
      },
      {
        h: 14,
        gap: 3,
        draw: (y) => {
          m.figure(SAFE.x0, y, percent(cpu), '%', 'CPU');
          m.figure(RIGHT, y, compact(perHour?.value), 'SKY/h', perHour?.estimate ? 'est.' : '');
        },
      },
      {
        h: 15,
        gap: 2,
        draw: (y) => {
          m.figure(SAFE.x0, y, gigabytes(ram), 'GB', 'RAM');
          m.text(RIGHT, y, `IN  ${rate(rx, divisor).padStart(3)}${unit}`);
          m.text(RIGHT, y + 8, `OUT ${rate(tx, divisor).padStart(3)}${unit}`);
        },
      },
      {
        h: 7,
        draw: (y) => {
          m.text(SAFE.x0, y, `UPLINK ${input.uplink === 'unknown' ? '?' : input.uplink.toUpperCase()}`);
          const n = input.alerts.length;
          m.textRight(
            SAFE.x1,
            y,
            n ? `${n} ALERT${n > 1 ? 'S' : ''}` : `${up}/${input.box.boards.length} UP`,
          );
        },
      },
    ],
    variant,
  );
  return c.toFramebuffer();
}
