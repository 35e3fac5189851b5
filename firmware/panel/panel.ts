import type { Ssd1306, Ssd1306Options } from '../../drivers/ssd1306/driver.js';
import { Framebuffer } from '../../drivers/ssd1306/framebuffer.js';
import type { Config } from '../config/schema.js';
import { burnInConfigFrom, burnInPlan, shiftFrame, type BurnInConfig, type BurnInPlan } from './burn-in.js';
import { alertKeys } from './alerts.js';
import { initialCycle, nextPage, type CycleState } from './page-cycle.js';
import type { PanelInput } from './panel-input.js';
import { sampleInput } from './sample-input.js';
import { allPages, parsePageName, renderPage, type PageName } from './pages/index.js';

export interface PanelOptions {
  /** How long each page stays up in the cycle. */
  pagePeriodMs?: number;
  /** How often the picture is redrawn; the driver sends only what changed. */
  refreshMs?: number;
  burnIn?: BurnInConfig;
  /** Wall clock (ms); tests pass a fake one. */
  now?: () => number;
  /** Local time minus UTC in minutes, for the night and blank hours. */
  utcOffsetMin?: () => number;
}

/** The built-in burn-in care when no config is given: the `[panel]` defaults. */
export const DEFAULT_BURN_IN: BurnInConfig = {
  shiftPx: 2,
  shiftPeriodS: 180,
  layoutPeriodS: 1800,
  contrast: 207,
  dimContrast: 16,
  dimAfterIdleS: 900,
  nightHours: { startMin: 23 * 60, endMin: 7 * 60 },
  blankHours: null,
};

/** What the panel is doing, for the console. */
export interface PanelState {
  page: PageName;
  pinned: PageName | null;
  /** The owner asked for dim (until `dim(false)` or `wake()`). */
  dimmed: boolean;
  /** The owner switched the panel off (until `on()`). */
  off: boolean;
  plan: BurnInPlan;
}

export interface PanelResult {
  ok: boolean;
  message: string;
}

/**
 * The front-panel service: picks the page (cycle, pin, alert pre-emption), draws it from the current input,
 * applies burn-in care (shift, layout variant, dim, blank) and hands the frame and register values to the
 * driver. It never waits on the bus: the driver queues, coalesces and handles faults on its own.
 *
 * Console API: `pin(name | null)`, `dim(on?)`, `off()`, `on()`, `wake()`, `snapshot()`, `renderPage(name)`,
 * `state()`, `pages()`.
 */
export class Panel {
  private timer: NodeJS.Timeout | null = null;
  private last: Framebuffer | null = null;
  private readonly listeners = new Set<(frame: Framebuffer) => void>();
  private readonly now: () => number;
  private readonly periodMs: number;
  private readonly burnIn: BurnInConfig;
  private cycle: CycleState;
  private pinned: PageName | null = null;
  private ownerDim = false;
  private ownerOff = false;
  private readonly startedAt: number;
  private lastActivityAt: number;
  private lastAlertKeys = new Set<string>();
  private lastPlan: BurnInPlan | null = null;

  constructor(
    private readonly driver: Ssd1306,
    private readonly source: () => PanelInput,
    private readonly options: PanelOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.periodMs = options.pagePeriodMs ?? 8000;
    this.burnIn = options.burnIn ?? DEFAULT_BURN_IN;
    this.startedAt = this.now();
    this.lastActivityAt = this.startedAt;
    this.cycle = initialCycle(this.startedAt);
    // The first drawing of each page compiles the drawing code and costs tens of milliseconds, once. Paid here,
    // at construction, it cannot hold up a running loop (the supervisor's power-on timers, say) later.
    const sample = sampleInput('mixed');
    for (const page of ['overview', 'board:1', 'rewards', 'alerts'] as const) {
      shiftFrame(renderPage(page, sample, 1), 1, 1);
    }
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 1000);
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.driver.close();
  }

  /** The frame most recently drawn, as sent to the panel (shifted; the half in view on a 32-line panel). */
  get frame(): Framebuffer | null {
    return this.last;
  }

  /** True once a frame has reached the panel itself (the driver put it on the bus), not only been drawn here. */
  get drawn(): boolean {
    return this.driver.status.framesSent > 0;
  }

  /** The frame most recently drawn; null before the first refresh. */
  snapshot(): Framebuffer | null {
    return this.last?.clone() ?? null;
  }

  onFrame(listener: (frame: Framebuffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every page name of this box, for the console's completion and `pin`. */
  pages(): PageName[] {
    return allPages(this.source().box.boards.length);
  }

  /** Draws any page from the current input, unshifted and at 128x64, for `--page` and the console. */
  renderPage(name: string): Framebuffer {
    const input = this.source();
    const page = parsePageName(name, input.box.boards.length);
    if (!page) throw new Error(`no page ${JSON.stringify(name)}; pages are ${this.pages().join(', ')}`);
    return renderPage(page, input);
  }

  /** Keeps one page up (a new alert still shows for one period); null resumes the cycle. */
  pin(name: string | null): PanelResult {
    this.wake();
    if (name === null) {
      this.pinned = null;
      void this.refresh();
      return { ok: true, message: 'panel cycles through its pages' };
    }
    const page = parsePageName(name, this.source().box.boards.length);
    if (!page)
      return { ok: false, message: `no page ${JSON.stringify(name)}; pages are ${this.pages().join(', ')}` };
    this.pinned = page;
    void this.refresh();
    return { ok: true, message: `panel pinned to ${page}` };
  }

  /** Dims the panel until `dim(false)` or the next owner activity. */
  dim(on = true): PanelResult {
    this.ownerDim = on;
    void this.refresh();
    return { ok: true, message: on ? 'panel dimmed' : 'panel at normal brightness' };
  }

  /** Switches the display off (the picture keeps being kept up to date) until `on()`. */
  off(): PanelResult {
    this.ownerOff = true;
    void this.refresh();
    return { ok: true, message: 'panel off' };
  }

  on(): PanelResult {
    this.ownerOff = false;
    this.wake();
    void this.refresh();
    return { ok: true, message: 'panel on' };
  }

  /** Owner activity (a console key): resets the idle timer and lifts an owner's dim. */
  wake(): void {
    this.lastActivityAt = this.now();
    this.ownerDim = false;
  }

  state(): PanelState {
    const plan = this.lastPlan ?? this.plan(this.now(), this.source());
    return { page: this.cycle.page, pinned: this.pinned, dimmed: this.ownerDim, off: this.ownerOff, plan };
  }

  /** Draws the page now; resolves when the driver has put it (or a newer frame) on the bus. */
  refresh(): Promise<void> {
    const now = this.now();
    const input = this.source();
    const keys = alertKeys(input.alerts);
    if ([...keys].some((k) => !this.lastAlertKeys.has(k))) this.lastActivityAt = now;
    this.lastAlertKeys = keys;
    this.cycle = nextPage(this.cycle, input, now, { periodMs: this.periodMs, pinned: this.pinned });
    const plan = this.plan(now, input);
    this.lastPlan = plan;
    const frame = this.fit(
      shiftFrame(renderPage(this.cycle.page, input, plan.variant), plan.dx, plan.dy),
      now,
    );
    this.last = frame;
    for (const listener of this.listeners) listener(frame);
    // The driver queues and coalesces; its own fault handling logs and retries, so none of these rejects.
    void this.driver.setContrast(this.ownerDim ? this.burnIn.dimContrast : plan.contrast);
    void this.driver.setDisplayOn(plan.displayOn && !this.ownerOff);
    return this.driver.show(frame);
  }

  private plan(now: number, input: PanelInput): BurnInPlan {
    return burnInPlan(now, this.burnIn, {
      startedAt: this.startedAt,
      lastActivityAt: this.lastActivityAt,
      utcOffsetMin: this.options.utcOffsetMin?.() ?? -new Date(now).getTimezoneOffset(),
      alertActive: input.alerts.length > 0,
    });
  }

  /** A 64-line page on a 32-line panel: the top half for the first half of the page's time, then the bottom. */
  private fit(page: Framebuffer, now: number): Framebuffer {
    if (this.driver.height === page.height) return page;
    const half = Math.floor((now - this.cycle.since) / Math.max(1, this.periodMs / 2)) % 2;
    const bytes = page.bytes.slice(half * 4 * page.width, (half + 1) * 4 * page.width);
    return new Framebuffer(page.width, this.driver.height, bytes);
  }
}

/** The driver's and the panel's options from the `[panel]` config section. */
export function panelSettings(panel: Config['panel']): { driver: Ssd1306Options; panel: PanelOptions } {
  return {
    driver: {
      address: panel.address,
      height: panel.height,
      contrast: panel.contrast,
      transferTimeoutMs: panel.transfer_timeout_ms,
      resyncMs: panel.resync_s * 1000,
    },
    panel: {
      pagePeriodMs: panel.page_period_s * 1000,
      refreshMs: panel.refresh_ms,
      burnIn: burnInConfigFrom(panel),
    },
  };
}
