// Runs inside the QEMU guest: the supervisor's own line wiring (openBoardLines, the config's gpio section and
// backend) and the Supervisor's staggered power-on, reset pulse and power cycle, on the kernel's real lines.
import { setTimeout as sleep } from 'node:timers/promises';
import { openBoardLines } from '../../../firmware/cli/commands/supervisor.js';
import { stderrLogger } from '../../../firmware/cli/commands/device-common.js';
import { loadConfig } from '../../../firmware/config/load.js';
import { supervisorSettings } from '../../../firmware/supervisor/settings.js';
import { Supervisor } from '../../../firmware/supervisor/supervisor.js';

const [configPath, resetPulse, cycleOff] = process.argv.slice(2);
const config = await loadConfig(configPath!);
const mark = (what: string): void => console.log(`RIG-MARK ${what}`);
mark('start');
const lines = await openBoardLines(config, stderrLogger);
const settings = supervisorSettings(config);
const supervisor = new Supervisor({
  ...settings,
  // No agents run in the guest: long timeouts keep the supervisor from restarting the silent boards itself.
  policy: {
    ...settings.policy,
    heartbeatTimeoutMs: 60_000,
    bootTimeoutMs: 600_000,
    powerOffMs: Number(cycleOff),
  },
  resetPulseMs: Number(resetPulse),
  lines,
  listen: { host: '127.0.0.1', port: 0 },
  keyFor: () => undefined,
  logger: stderrLogger,
});
await supervisor.start();
const powers = [...lines.values()].map((l) => l.power!);
for (let i = 0; i < 200 && (await Promise.all(powers.map((p) => p.read()))).includes(0); i++) await sleep(50);
mark('powered');
console.log(`RIG-OP ${JSON.stringify(await supervisor.operate(2, 'reset', 'hil'))}`);
console.log(`RIG-OP ${JSON.stringify(await supervisor.operate(3, 'cycle', 'hil'))}`);
// The pulse and the cycle run on the supervisor's own timers after operate() answers: let them finish.
await sleep(Number(resetPulse) + Number(cycleOff) + 500);
const levels = await Promise.all(
  [...lines.values()].map(async (l) => ({ power: await l.power!.read(), reset: await l.reset!.read() })),
);
await supervisor.stop();
for (const l of lines.values()) {
  await l.power!.close();
  await l.reset!.close();
}
console.log(`RIG-JSON gpio ${JSON.stringify({ levels })}`);
