import type { Framebuffer } from '../../../drivers/ssd1306/framebuffer.js';
import { Canvas } from '../canvas.js';
import type { PanelInput } from '../panel-input.js';
import { Placer, SAFE, stack, type Band } from './layout.js';

const MAX_LINES = 6;

/** Alerts: one or two drawn large with a line of detail each; more as a list of lines. */
export function renderAlerts(input: PanelInput, variant: 0 | 1 = 0): Framebuffer {
  const c = new Canvas(128, 64);
  const m = new Placer(c, variant);
  const alerts = input.alerts;
  const bands: Band[] = [
    {
      h: 7,
      gap: 3,
      draw: (y) => {
        m.text(SAFE.x0, y, 'ALERTS');
        m.textRight(SAFE.x1, y, String(alerts.length));
      },
    },
  ];
  if (alerts.length === 0) {
    bands.push({ h: 14, draw: (y) => m.text(SAFE.x0, y + 8, 'NO ALERTS', 2) });
  } else if (alerts.length <= 2) {
    for (const a of alerts) {
      bands.push({
        h: 23,
        gap: 4,
        draw: (y) => {
          m.text(SAFE.x0, y, a.short.slice(0, 10), 2);
          m.text(SAFE.x0, y + 16, a.text.toUpperCase().slice(0, 20));
        },
      });
    }
  } else {
    const shown = alerts.length > MAX_LINES ? alerts.slice(0, MAX_LINES - 1) : alerts;
    const lines = shown.map((a) => a.text.toUpperCase().slice(0, 20));
    if (shown.length < alerts.length) lines.push(`+${alerts.length - shown.length} MORE`);
    bands.push({ h: lines.length * 8, draw: (y) => lines.forEach((l, i) => m.text(SAFE.x0, y + i * 8, l)) });
  }
  stack(bands, variant);
  return c.toFramebuffer();
}
