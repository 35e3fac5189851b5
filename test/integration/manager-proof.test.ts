// What the manager's composition proves for a trial boot of its slot (update/trial-health.ts): its supervisor up,
// and its panel drawn on the glass, or no panel at all. Real sockets on loopback, the panel on the emulated bus.
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedI2cBus } from '../../drivers/i2c/emulated-bus.js';
import { silentLogger } from '../../drivers/logger.js';
import { Ssd1306Model } from '../../drivers/ssd1306/emulator.js';
import { composeManager, type ManagerSoftware } from '../../firmware/compose/manager.js';
import { defaultConfig } from '../../firmware/config/load.js';
import type { ManagerProof } from '../../firmware/update/trial-health.js';
import { waitFor } from '../helpers/wait.js';

let manager: ManagerSoftware | undefined;

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
});

function start(o: { panel: boolean; answers?: boolean }): { recorded: ManagerProof[] } {
  const bus = new EmulatedI2cBus();
  // A panel that does not answer: nothing at its address on the bus.
  if (o.answers !== false) bus.attach(0x3c, new Ssd1306Model());
  const recorded: ManagerProof[] = [];
  manager = composeManager({
    config: defaultConfig({
      box: { boards: 4 },
      panel: { enabled: o.panel, refresh_ms: 100 },
    }),
    keyFor: () => undefined,
    logger: silentLogger,
    recordProof: async (p) => void recorded.push(p),
    hardware: {
      lines: new Map(),
      openPanelBus: () => Promise.resolve(bus),
      network: { listen: { host: '127.0.0.1', port: 0 } },
      attach: () => ({ argv: ['true'] }),
    },
  });
  return { recorded };
}

describe("the manager's proof for a trial boot of its slot", () => {
  it('says the supervisor is up once started, and records again once the panel has drawn', async () => {
    const { recorded } = start({ panel: true });
    expect(manager!.proof().supervisor).toBe(false);
    await manager!.start();
    expect(manager!.proof().supervisor).toBe(true);
    await waitFor('the panel drawn', () => manager!.proof().panel === 'drawn', 10_000);
    await waitFor('the drawn panel recorded', () => recorded.at(-1)?.panel === 'drawn', 10_000);
    expect(recorded.every((p) => p.supervisor)).toBe(true);
    await manager!.stop();
    expect(manager!.proof().supervisor).toBe(false);
  });

  it('keeps the panel waiting while it does not answer on its bus', async () => {
    const { recorded } = start({ panel: true, answers: false });
    await manager!.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(manager!.proof()).toEqual({ supervisor: true, panel: 'waiting' });
    expect(recorded).toEqual([{ supervisor: true, panel: 'waiting' }]);
  });

  it('has no panel to wait for when the panel is disabled', async () => {
    const { recorded } = start({ panel: false });
    await manager!.start();
    expect(manager!.proof()).toEqual({ supervisor: true, panel: 'none' });
    expect(recorded).toEqual([{ supervisor: true, panel: 'none' }]);
  });
});
