import type { Ssd1306 } from '../../drivers/ssd1306/driver.js';
import type { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';
import type { BoxView } from '../supervisor/view.js';
import { renderOverview } from './pages/overview.js';

export interface PanelOptions {
  /** How often the picture is redrawn; the driver sends only what changed. */
  refreshMs?: number;
}

/** The front-panel service: renders the current page from the supervisor's view and hands it to the driver. */
export class Panel {
  private timer: NodeJS.Timeout | null = null;
  private last: Framebuffer | null = null;
  private readonly listeners = new Set<(frame: Framebuffer) => void>();

  constructor(
    private readonly driver: Ssd1306,
    private readonly view: () => BoxView,
    private readonly options: PanelOptions = {},
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 500);
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.driver.close();
  }

  /** The frame most recently drawn. */
  get frame(): Framebuffer | null {
    return this.last;
  }

  onFrame(listener: (frame: Framebuffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Draws the page now; resolves when the driver has put it (or a newer frame) on the bus. */
  refresh(): Promise<void> {
    const frame = renderOverview(this.view(), this.driver.width, this.driver.height);
    this.last = frame;
    for (const listener of this.listeners) listener(frame);
    // The driver queues and coalesces; its own fault handling logs and retries, so this never rejects.
    return this.driver.show(frame);
  }
}
