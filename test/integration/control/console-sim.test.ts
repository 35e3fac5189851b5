import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../firmware/config/load.js';
import { Console } from '../../../firmware/console/console.js';
import { passwordFile, PasswordStore } from '../../../firmware/console/password.js';
import { ControlClient } from '../../../firmware/control/client.js';
import { simLineOffsets, Simulator } from '../../../firmware/sim/simulator.js';
import type { SupervisorEvent } from '../../../firmware/supervisor/event-log.js';
import { plain } from '../../helpers/pty-session.js';
import { waitFor } from '../../helpers/wait.js';

let stopAll: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopAll?.();
  stopAll = undefined;
});

describe('the console on a simulated box', () => {
  it('resets emulated board 3 through its reset line on `board 3 reset`, and the log names the peer and the console', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-sim-'));
    const events: SupervisorEvent[] = [];
    const config = defaultConfig({
      box: { boards: 4 },
      supervisor: {
        power_on_gap_ms: 20,
        heartbeat_interval_ms: 100,
        heartbeat_timeout_ms: 500,
        state_dir: dir,
      },
    });
    await new PasswordStore(passwordFile(dir)).set('open sesame');
    const sim = new Simulator({
      config,
      bootMs: 50,
      events: (e) => events.push(e),
      control: { path: join(dir, 'control.sock') },
    });
    await sim.start();
    stopAll = () => sim.stop();
    const control = sim.control!;
    await waitFor('all boards up', () => sim.supervisor.view().boards.every((b) => b.status === 'up'));

    const input = new PassThrough();
    const output = Object.assign(new PassThrough(), { columns: 80, rows: 24 });
    let screen = '';
    output.on('data', (d: Buffer) => (screen += d.toString()));
    const console_ = new Console({
      input: input as unknown as NodeJS.ReadStream,
      output: output as unknown as NodeJS.WriteStream,
      control: new ControlClient(control.path),
      passwords: new PasswordStore(passwordFile(dir)),
      by: 'console:ttyS0',
      idleLockMs: 0,
      shell: ['/bin/sh'],
    });
    const running = console_.run();
    const stopConsole = stopAll;
    stopAll = async () => {
      console_.stop();
      await running;
      await stopConsole();
    };
    await waitFor('password prompt', () => screen.includes('password: '));
    input.write('open sesame\r');
    await waitFor('command prompt', () => screen.includes('skyminer> '));
    input.write('board 3 reset\r');
    await waitFor('confirmation', () => screen.includes('Reset board 3? It restarts at once. [y/N] '));
    input.write('y\r');
    const answer = (): string => screen.slice(screen.indexOf('[y/N] '));
    await waitFor('the answer', () => /\[y\/N\] y\r\nboard 3 reset\r\nskyminer> $/.test(plain(answer())));

    const reset = simLineOffsets(3).reset;
    const levels = sim.chip.history.filter(([, offset]) => offset === reset).map(([, , level]) => level);
    expect(levels).toEqual([1, 0, 1]); // released at attach, asserted (low), released
    await waitFor('board 3 to boot again', () => sim.boards[2]!.boots === 2);
    expect(events).toContainEqual(
      expect.objectContaining({
        board: 3,
        event: 'operator',
        operation: 'reset',
        // The kernel's word for who is at the other end of the socket first, the console's own after it.
        by: `uid=${process.getuid!()} pid=${process.pid} (console:ttyS0)`,
      }),
    );
    expect(sim.boards.map((b) => b.boots)).toEqual([1, 1, 2, 1]); // no other board was touched
  });
});
