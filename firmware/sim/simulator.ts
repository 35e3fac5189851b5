import { EmulatedGpioChip } from '../../drivers/gpio/emulated.js';
import { EmulatedI2cBus } from '../../drivers/i2c/emulated-bus.js';
import { silentLogger, type Logger } from '../../drivers/logger.js';
import { Ssd1306 } from '../../drivers/ssd1306/driver.js';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { Agent } from '../agent/agent.js';
import type { Config } from '../config/schema.js';
import { Panel, panelSettings } from '../panel/panel.js';
import type { EventSink } from '../supervisor/event-log.js';
import { Supervisor, type BoardLines } from '../supervisor/supervisor.js';
import { EmulatedBoard, type EmulatedBoardState } from './emulated-board.js';
import { SimPanelFigures } from './panel-figures.js';

export interface SimulatorOptions {
  config: Config;
  /** Time from power-on to the agent running. */
  bootMs: number;
  i2cTrace?: string;
  logger?: Logger;
  events?: EventSink;
}

/** Board n's lines on the emulated chip: power at 2(n-2), reset at 2(n-2)+1. The manager has none. */
export function simLineOffsets(board: number): { power: number; reset: number } {
  return { power: 2 * (board - 2), reset: 2 * (board - 2) + 1 };
}

/**
 * A whole Skyminer in one process: emulated GPIO, I2C bus with an SSD1306 on it, and boards; the real
 * supervisor, agents, panel and driver run on top, talking over real UDP sockets on loopback.
 */
export class Simulator {
  readonly chip: EmulatedGpioChip;
  readonly bus: EmulatedI2cBus;
  readonly oled: Ssd1306Model;
  readonly boards: EmulatedBoard[] = [];
  readonly supervisor: Supervisor;
  readonly panel: Panel;
  /** Stand-in for the telemetry and rewards services: what the panel shows beside the boards' states. */
  readonly figures = new SimPanelFigures(Date.now());
  private readonly logger: Logger;
  private readonly boardStates = new Map<number, EmulatedBoardState>();

  constructor(private readonly options: SimulatorOptions) {
    const { config } = options;
    const n = config.box.boards;
    this.logger = options.logger ?? silentLogger;
    this.chip = new EmulatedGpioChip('gpiochip0', Math.max(32, 2 * n));
    this.bus = new EmulatedI2cBus();
    if (options.i2cTrace) this.bus.traceTo(options.i2cTrace);
    this.oled = new Ssd1306Model(128, config.panel.height);
    this.bus.attach(config.panel.address, this.oled);

    const lines = new Map<number, BoardLines>();
    for (let board = 2; board <= n; board++) {
      const o = simLineOffsets(board);
      lines.set(board, {
        power: this.chip.request({ chip: this.chip.label, offset: o.power }),
        reset: this.chip.request({ chip: this.chip.label, offset: o.reset, activeLow: true }),
      });
    }
    this.supervisor = new Supervisor({
      boards: n,
      lines,
      listen: { host: '127.0.0.1', port: 0 },
      policy: {
        heartbeatTimeoutMs: config.supervisor.heartbeat_timeout_ms,
        bootTimeoutMs: config.supervisor.boot_timeout_s * 1000,
      },
      powerOnGapMs: config.supervisor.power_on_gap_ms,
      logger: this.logger,
      events: options.events,
    });
    const settings = panelSettings(config.panel);
    const driver = new Ssd1306(this.bus, { ...settings.driver, logger: this.logger });
    this.panel = new Panel(
      driver,
      () => this.figures.input(this.supervisor.view(), (b) => this.emulatedState(b), Date.now()),
      settings.panel,
    );
  }

  async start(): Promise<void> {
    const { config, bootMs } = this.options;
    await this.supervisor.start();
    this.panel.start();
    for (let board = 1; board <= config.box.boards; board++) {
      const offsets = board === 1 ? undefined : simLineOffsets(board);
      const emulated = new EmulatedBoard({
        board,
        chip: this.chip,
        powerOffset: offsets?.power,
        resetOffset: offsets?.reset,
        bootMs,
        software: (watchdog) =>
          new Agent({
            board,
            manager: { host: '127.0.0.1', port: this.supervisor.port },
            intervalMs: config.supervisor.heartbeat_interval_ms,
            logger: this.logger,
            watchdog: { device: watchdog, timeoutS: config.agent.watchdog_timeout_s, disarmOnStop: true },
          }),
        onState: (b, s) => this.boardStates.set(b, s),
      });
      this.boards.push(emulated);
      emulated.attach();
    }
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
    await Promise.all(this.boards.map((b) => b.detach()));
    await this.panel.stop();
    await this.bus.close();
  }

  /** What each emulated board is really doing, beside what the supervisor believes. */
  emulatedState(board: number): EmulatedBoardState {
    return this.boardStates.get(board) ?? 'off';
  }
}
