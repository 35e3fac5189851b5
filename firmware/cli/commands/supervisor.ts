import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openI2cBus } from '../../../drivers/i2c/bus.js';
import { Ssd1306 } from '../../../drivers/ssd1306/driver.js';
import { Panel, panelSettings } from '../../panel/panel.js';
import { panelInputFromView } from '../../panel/panel-input.js';
import { loadBoxSecret } from '../../auth/enrol.js';
import { BoxKeys } from '../../auth/keys.js';
import { JsonLinesEventLog } from '../../supervisor/event-log.js';
import { supervisorSettings } from '../../supervisor/settings.js';
import { Supervisor, type BoardLines } from '../../supervisor/supervisor.js';
import { boardAddress, readRoleConfig, stderrLogger, untilStopped } from './device-common.js';

/** `skyminer supervisor`: the manager's role on a real box. */
export async function supervisorCommand(argv: string[]): Promise<number> {
  const config = await readRoleConfig(argv);
  const logger = stderrLogger;
  await mkdir(config.supervisor.state_dir, { recursive: true });
  const keys = new BoxKeys(await loadBoxSecret(config.auth.box_secret), config.box.boards);
  const events = new JsonLinesEventLog(
    join(config.supervisor.state_dir, 'events.jsonl'),
    (m) => logger.warn(m),
    { maxBytes: config.supervisor.event_log_max_bytes, keep: config.supervisor.event_log_keep },
  );
  const lines = new Map<number, BoardLines>();
  const supervisor = new Supervisor({
    ...supervisorSettings(config),
    lines,
    listen: { host: '0.0.0.0', port: config.network.heartbeat_port },
    keyFor: keys.keyFor,
    boardAddress: (board) => ({ address: boardAddress(config, board), port: config.network.agent_port }),
    stateFile: join(config.supervisor.state_dir, 'state.json'),
    logger,
    events: events.sink,
  });
  await supervisor.start();

  // A missing or broken panel must not keep the supervisor from supervising.
  let panel: Panel | undefined;
  if (config.panel.enabled) {
    try {
      const bus = await openI2cBus(config.panel.i2c_bus);
      const settings = panelSettings(config.panel);
      const driver = new Ssd1306(bus, { ...settings.driver, logger });
      panel = new Panel(driver, () => panelInputFromView(supervisor.view()), settings.panel);
      panel.start();
    } catch (err) {
      logger.warn(
        `panel: /dev/i2c-${config.panel.i2c_bus} unavailable (${(err as Error).message}); running without it`,
      );
    }
  }
  logger.info(
    `supervisor: watching ${config.box.boards} boards, heartbeats on udp/${config.network.heartbeat_port}`,
  );
  await untilStopped();
  await supervisor.stop();
  await panel?.stop();
  await events.flush();
  return 0;
}
