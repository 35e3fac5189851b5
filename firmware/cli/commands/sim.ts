import { constants } from 'node:fs';
import { access, lstat, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { framebufferToPng } from '../../../drivers/ssd1306/framebuffer.js';
import type { Logger } from '../../../drivers/logger.js';
import { ConfigError, defaultConfig } from '../../config/load.js';
import { PasswordStore, passwordFile } from '../../console/password.js';
import { allPages, parsePageName } from '../../panel/pages/index.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import {
  faultBoards,
  loadScenario,
  ScenarioError,
  ScenarioRunner,
  type Scenario,
} from '../../sim/scenario.js';
import { Simulator } from '../../sim/simulator.js';
import { simLedgerPath } from '../../sim/skywire-sim.js';
import { PASSWORD_FILE } from '../../skywire/hypervisor-account.js';
import { renderScreen } from '../../sim/terminal.js';
import { intOption, numberOption, UsageError } from '../usage-error.js';

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
      'hypervisor-url': { type: 'string' },
      'skycoin-url': { type: 'string' },
      control: { type: 'string' },
      'console-password': { type: 'string' },
      'state-dir': { type: 'string' },
      scenario: { type: 'string' },
      enrolment: { type: 'string' },
    },
  });
  // Someone watching sees the boards join, as a box flashed from a generic image does; headless runs (tests,
  // benches, scenarios) time supervision from boards enrolled at once, as a per-box image's are.
  const enrolment = values.enrolment ?? (!values.headless && process.stdout.isTTY ? 'join' : 'box-secret');
  if (enrolment !== 'join' && enrolment !== 'box-secret')
    throw new UsageError(`--enrolment: expected join or box-secret, got ${enrolment}`);
  let scenario: Scenario | undefined;
  if (values.scenario) {
    try {
      scenario = await loadScenario(values.scenario);
    } catch (err) {
      if (err instanceof ScenarioError) throw new UsageError(err.message);
      throw err;
    }
  }
  // The flags win; the scenario's own figures fill in what the flags leave out.
  const boards = intOption('boards', values.boards, 1, 64) ?? scenario?.boards ?? 8;
  if (boards % 4 !== 0 || boards < 4) {
    throw new UsageError(`--boards: a Skyminer has a multiple of 4 boards (4, 8, 12, ...), got ${boards}`);
  }
  const bootMs = intOption('boot-ms', values['boot-ms'], 0, 600_000) ?? scenario?.boot_ms ?? 3000;
  const gapMs = intOption('power-gap-ms', values['power-gap-ms'], 0, 60_000);
  const duration = numberOption('duration', values.duration, 0.1, 30 * 24 * 3600) ?? scenario?.duration_s;
  const outside = scenario?.faults.findIndex((f) => faultBoards(f).some((b) => b > boards)) ?? -1;
  if (outside >= 0)
    throw new UsageError(
      `--scenario: faults.${outside}.board: no board ${Math.max(...faultBoards(scenario!.faults[outside]!))} in ${boards}`,
    );
  const scale = intOption('snapshot-scale', values['snapshot-scale'], 1, 16) ?? 1;
  if (values.headless && duration === undefined)
    throw new UsageError('--headless needs --duration SECONDS (or a scenario with duration_s)');
  if (values['console-password'] !== undefined && !values.control) {
    throw new UsageError('--console-password is for the console on the control socket: add --control PATH');
  }
  const page = values.page;
  if (page !== undefined && !parsePageName(page, boards)) {
    throw new UsageError(`--page: no page ${JSON.stringify(page)}; pages are ${allPages(boards).join(', ')}`);
  }

  for (const key of ['hypervisor-url', 'skycoin-url'] as const) {
    const url = values[key];
    if (url !== undefined && !/^https?:\/\/[^/]/.test(url)) {
      throw new UsageError(
        `--${key}: expected an http:// URL such as http://user:pass@192.168.0.2:8000, got ${url}`,
      );
    }
  }

  await checkPaths(values);

  // Each run keeps its state (ledger, supervisor state) apart from any other run unless told where to keep it.
  const stateDir = values['state-dir'] ?? (await mkdtemp(join(tmpdir(), 'skyminer-sim-')));
  let config;
  try {
    const overrides = scenario?.config ?? {};
    const supervisorOverrides = (overrides.supervisor ?? {}) as Record<string, unknown>;
    config = defaultConfig({
      ...overrides,
      box: { boards },
      supervisor: {
        ...supervisorOverrides,
        state_dir: stateDir,
        ...(gapMs !== undefined ? { power_on_gap_ms: gapMs } : {}),
      },
    });
  } catch (err) {
    if (values['state-dir'] === undefined) await rm(stateDir, { recursive: true, force: true });
    if (err instanceof ConfigError)
      throw new UsageError(`${values.scenario ? '--scenario config: ' : ''}${err.message}`);
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
  const eventLog = values.events
    ? new JsonLinesEventLog(values.events, (m) => logger.warn(m), {
        maxBytes: config.supervisor.event_log_max_bytes,
        keep: config.supervisor.event_log_keep,
      })
    : undefined;
  const sim = new Simulator({
    config,
    bootMs,
    enrolment,
    i2cTrace: values['i2c-trace'],
    logger,
    events: eventLog?.sink,
    skywire: {
      hypervisorUrl: values['hypervisor-url'],
      skycoinUrl: values['skycoin-url'],
      ledgerPath: simLedgerPath(config),
      passwordFile: join(stateDir, PASSWORD_FILE),
      // Faster than a box's slow polling, so the figures move while someone watches.
      summaryPollMs: 2000,
      balancePollMs: 10_000,
    },
    stateFile: join(stateDir, 'state.json'),
    ...(values.control ? { control: { path: values.control } } : {}),
    ...(scenario?.disks
      ? { disks: scenario.disks.map((d) => ({ board: d.board, disk: d.disk, report: d.smartctl })) }
      : {}),
  });
  // Set before the control socket opens, so that the first console already asks for it.
  if (values['console-password'] !== undefined)
    await new PasswordStore(passwordFile(stateDir)).set(values['console-password']);
  const started = performance.now();
  await sim.start();
  if (values.control && !sim.control) {
    // Asked for by name, the console's way in is part of the run: without it the run is refused, not half-done.
    await sim.stop();
    if (values['state-dir'] === undefined) await rm(stateDir, { recursive: true, force: true });
    throw new UsageError(`--control: cannot serve a control socket at ${values.control}`);
  }
  const runner = scenario ? new ScenarioRunner(sim, scenario) : undefined;
  runner?.start();
  if (values.control)
    logger.info(`console: skyminer console --control ${values.control} --state-dir ${stateDir}`);

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
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer); // a stop signal must not wait for the rest of --duration
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (duration !== undefined) timer = setTimeout(done, duration * 1000);
  });

  if (screenTimer) clearInterval(screenTimer);
  // One last frame from the final state, fully on the bus before the picture is taken.
  await sim.panel.refresh();
  // --page draws that page from the final state as the panel would, unshifted; otherwise the glass as it is.
  const picture = page !== undefined ? sim.panel.renderPage(page) : sim.oled.picture();
  const brightness = page !== undefined ? 1 : sim.oled.brightness();
  runner?.stop();
  await sim.stop();
  await eventLog?.flush();
  if (values.snapshot) {
    await writeFile(values.snapshot, framebufferToPng(picture, { scale, brightness }));
  }
  if (values['state-dir'] === undefined) await rm(stateDir, { recursive: true, force: true });
  if (interactive) process.stdout.write('\x1b[?25h\n');
  return 0;
}

/**
 * The paths the run needs, checked before anything starts: one that cannot work is named in one line at once,
 * not met by a stack trace halfway in (state), after a whole run (--snapshot) or never (a socket in use).
 */
async function checkPaths(values: {
  control?: string;
  'state-dir'?: string;
  snapshot?: string;
}): Promise<void> {
  const kind = async (path: string) => lstat(path).catch(() => undefined);
  const stateDir = values['state-dir'];
  const dirStat = stateDir !== undefined ? await stat(stateDir).catch(() => undefined) : undefined;
  if (stateDir !== undefined && dirStat && !dirStat.isDirectory())
    throw new UsageError(`--state-dir: ${stateDir} is not a directory`);
  const control = values.control;
  const found = control !== undefined ? await kind(control) : undefined;
  if (control !== undefined && found) {
    if (!found.isSocket()) throw new UsageError(`--control: ${control} is in the way and is not a socket`);
    if (await answers(control))
      throw new UsageError(`--control: ${control} is in use: another supervisor is serving it`);
  }
  const snapshot = values.snapshot;
  if (snapshot !== undefined) {
    if ((await stat(snapshot).catch(() => undefined))?.isDirectory())
      throw new UsageError(`--snapshot: ${snapshot} is a directory`);
    try {
      await access(dirname(snapshot), constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        `--snapshot: cannot write ${snapshot}: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'directory not writable' : String(code)}`,
      );
    }
  }
}

/** Whether a server accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
