import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../../firmware/control/client.js';
import type { BoxView } from '../../firmware/supervisor/view.js';
import { SKYMINER } from './skyminer.js';

export interface SimProcess {
  dir: string;
  control: string;
  events: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/**
 * Starts the real `skyminer sim --headless --control PATH` as a child process in a fresh directory and waits
 * until its control socket answers with every board up.
 */
export async function startSimProcess(extra: string[] = [], boards = 8): Promise<SimProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-control-'));
  const control = join(dir, 'control.sock');
  const events = join(dir, 'events.jsonl');
  const child = spawn(
    process.execPath,
    [SKYMINER, 'sim', '--headless', '--duration', '60', '--boards', String(boards), '--boot-ms', '100',
      '--power-gap-ms', '20', '--control', control, '--state-dir', dir, '--events', events, ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  ); // prettier-ignore
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const client = new ControlClient(control);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await client.request<BoxView>({ method: 'view' }).catch(() => null);
    if (view?.boards.length === boards && view.boards.every((b) => b.status === 'up')) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`simulator did not come up: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    control,
    events,
    child,
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
