// Runs inside the QEMU guest: the supervisor's own line wiring (openBoardLines, the config's gpio section and
// backend) and the Supervisor's staggered power-on, reset pulse and power cycle, on the kernel's real lines.
import { setTimeout as sleep } from 'node:timers/promises';
import { openBoardLines } from '../../../firmware/cli/commands/supervisor.js';
import { stderrLogger } from '../../../firmware/cli/commands/device-common.js';
import { loadConfig } from '../../../firmware/config/load.js';
import { Supervisor } from '../../../firmware/supervisor/supervisor.js';

const [configPath, resetPulse, cycleOff] = process.argv.slice(2);
const config = await loadConfig(configPath!);
const mark = (what: string): void => console.log(`RIG-MARK ${what}`);
mark('start');
const lines = await openBoardLines(config, stderrLogger);
const supervisor = new Supervisor({
  boards: config.box.boards,
  lines,
  listen: { host: '127.0.0.1', port: 0 },
  policy: { heartbeatTimeoutMs: 60_000, bootTimeoutMs: 600_000 },
  powerOnGapMs: config.supervisor.power_on_gap_ms,
  resetPulseMs: Number(resetPulse),
  powerCycleOffMs: Number(cycleOff),
  logger: stderrLogger,
});
await supervisor.start();
const powers = [...lines.values()].map((l) => l.power!);
for (let i = 0; i < 200 && (await Promise.all(powers.map((p) => p.read()))).includes(0); i++) await sleep(50);
mark('powered');
console.log(`RIG-OP ${JSON.stringify(await supervisor.operate(2, 'reset', 'hil'))}`);
console.log(`RIG-OP ${JSON.stringify(await supervisor.operate(3, 'cycle', 'hil'))}`);
const levels = await Promise.all(
  [...lines.values()].map(async (l) => ({ power: await l.power!.read(), reset: await l.reset!.read() })),
);
await supervisor.stop();
for (const l of lines.values()) {
  await l.power!.close();
  await l.reset!.close();
}
console.log(`RIG-JSON gpio ${JSON.stringify({ levels })}`);
