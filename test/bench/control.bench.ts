// The control socket's cost per request (a new connection each, as the CLI and console make them), the `skyminer
// boards` command end to end, and the console login's scrypt check, which sets how fast a password can be guessed.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword, verifyPassword } from '../../firmware/console/password.js';
import { ControlClient } from '../../firmware/control/client.js';
import { ControlServer } from '../../firmware/control/server.js';
import type { SupervisorOperator } from '../../firmware/supervisor/operator.js';

const SKYMINER = fileURLToPath(new URL('../../firmware/cli/main.js', import.meta.url));

const operator: SupervisorOperator = {
  view: () => ({
    at: 0,
    boards: Array.from({ length: 8 }, (_, i) => ({
      board: i + 1,
      role: i === 0 ? ('manager' as const) : ('worker' as const),
      status: 'up' as const,
      forS: 100,
      uptimeS: 100,
      healthy: true,
    })),
  }),
  operate: async (board, operation) => ({ ok: true, message: `board ${board} ${operation}` }),
  recentEvents: () => [],
  onEvent: () => () => {},
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-control-'));
  const path = join(dir, 'control.sock');
  const server = new ControlServer(operator, {}, { path, group: null });
  await server.listen();
  const client = new ControlClient(path);
  const n = 500;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await client.request({ method: 'view' });
  const perRequest = (performance.now() - t0) / n;

  const cli: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [SKYMINER, '--control', path, 'boards'], (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    cli.push(performance.now() - t);
  }
  await server.close();

  const hash = await hashPassword('bench password');
  const checks: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await verifyPassword('wrong password', hash);
    checks.push(performance.now() - t);
  }
  console.log(
    `control socket: ${perRequest.toFixed(2)} ms per view request (new connection each, ${n} requests)`,
  );
  console.log(`skyminer boards (whole CLI process): median ${median(cli).toFixed(0)} ms over 5 runs`);
  console.log(
    `console login check (scrypt N=16384 r=8 p=1): median ${median(checks).toFixed(0)} ms per attempt`,
  );
}
