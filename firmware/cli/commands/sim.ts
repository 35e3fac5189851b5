import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { framebufferToPng } from '../../../drivers/ssd1306/framebuffer.js';
import type { Logger } from '../../../drivers/logger.js';
import { ConfigError, defaultConfig } from '../../config/load.js';
import { allPages, parsePageName } from '../../panel/pages/index.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import { Simulator } from '../../sim/simulator.js';
import { renderScreen } from '../../sim/terminal.js';
import { intOption, numberOption, UsageError } from '../usage-error.js';

export const SIM_USAGE = `usage: skyminer sim [--boards N] [--boot-ms MS] [--power-gap-ms MS] [--headless]
                    [--duration SECONDS] [--snapshot FILE.png] [--snapshot-scale N] [--page NAME]
                    [--i2c-trace FILE] [--events FILE.jsonl]`;

/** `skyminer sim`: the whole box on emulated hardware, drawn live in the terminal or run headless. */
export async function simCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      boards: { type: 'string' },
      'boot-ms': { type: 'string' },
      'power-gap-ms': { type: 'string' },
      headless: { type: 'boolean' },
      duration: { type: 'string' },
      snapshot: { type: 'string' },
      'snapshot-scale': { type: 'string' },
      page: { type: 'string' },
      'i2c-trace': { type: 'string' },
      events: { type: 'string' },
    },
  });
  const boards = intOption('boards', values.boards, 1, 64) ?? 8;
  if (boards % 4 !== 0 || boards < 4) {
    throw new UsageError(`--boards: a Skyminer has a multiple of 4 boards (4, 8, 12, ...), got ${boards}`);
  }
  const bootMs = intOption('boot-ms', values['boot-ms'], 0, 600_000) ?? 3000;
  const gapMs = intOption('power-gap-ms', values['power-gap-ms'], 0, 60_000);
  const duration = numberOption('duration', values.duration, 0.1, 30 * 24 * 3600);
  const scale = intOption('snapshot-scale', values['snapshot-scale'], 1, 16) ?? 1;
  if (values.headless && duration === undefined) throw new UsageError('--headless needs --duration SECONDS');
  const page = values.page;
  if (page !== undefined && !parsePageName(page, boards)) {
    throw new UsageError(`--page: no page ${JSON.stringify(page)}; pages are ${allPages(boards).join(', ')}`);
  }

  let config;
  try {
    config = defaultConfig({
      box: { boards },
      supervisor: {
        state_dir: '/tmp/skyminer-sim',
        ...(gapMs !== undefined ? { power_on_gap_ms: gapMs } : {}),
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }

  const interactive = !values.headless && process.stdout.isTTY === true;
  const logLines: string[] = [];
  const logger: Logger = {
    info: (m) => note(`${m}`),
    warn: (m) => note(`warning: ${m}`),
    error: (m) => note(`error: ${m}`),
  };
  function note(line: string): void {
    if (interactive) logLines.push(line);
    else console.error(line);
  }
  const eventLog = values.events ? new JsonLinesEventLog(values.events, (m) => logger.warn(m)) : undefined;
  const sim = new Simulator({
    config,
    bootMs,
    i2cTrace: values['i2c-trace'],
    logger,
    events: eventLog?.sink,
  });
  const started = performance.now();
  await sim.start();

  let screenTimer: NodeJS.Timeout | undefined;
  if (interactive) {
    process.stdout.write('\x1b[?25l\x1b[2J');
    const draw = (): void => {
      const frame = sim.oled.picture();
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      const footer = `  ${secs}s · ${boards} boards · Ctrl-C exits${logLines.length ? ' · ' + logLines.at(-1) : ''}`;
      process.stdout.write('\x1b[H' + renderScreen(frame, sim.supervisor.view(), footer));
    };
    draw();
    screenTimer = setInterval(draw, 200);
  } else if (!values.headless) {
    sim.supervisor.onChange(() => {
      const line = sim.supervisor
        .view()
        .boards.map((b) => `${b.board}:${b.status}`)
        .join(' ');
      console.log(line);
    });
  }

  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (duration !== undefined) setTimeout(done, duration * 1000);
  });

  if (screenTimer) clearInterval(screenTimer);
  // One last frame from the final state, fully on the bus before the picture is taken.
  await sim.panel.refresh();
  // --page draws that page from the final state as the panel would, unshifted; otherwise the glass as it is.
  const picture = page !== undefined ? sim.panel.renderPage(page) : sim.oled.picture();
  const brightness = page !== undefined ? 1 : sim.oled.brightness();
  await sim.stop();
  await eventLog?.flush();
  if (values.snapshot) {
    await writeFile(values.snapshot, framebufferToPng(picture, { scale, brightness }));
  }
  if (interactive) process.stdout.write('\x1b[?25h\n');
  return 0;
}
