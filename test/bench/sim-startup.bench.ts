// Time from `skyminer sim` start to the first complete panel frame: the real command in a child process, read
// from its I2C trace (milliseconds since the process started): init, window command, then the 1024-byte run.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SKYMINER = fileURLToPath(new URL('../../firmware/cli/main.js', import.meta.url));
const RUNS = 5;

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SKYMINER, ...args], (err) => (err ? reject(err) : resolve()));
  });
}

export default async function (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-sim-'));
  const firstFrame: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const trace = join(dir, `trace-${i}.txt`);
    const t0 = performance.now();
    await run(['sim', '--headless', '--duration', '0.5', '--i2c-trace', trace]);
    wall.push(performance.now() - t0);
    const lines = (await readFile(trace, 'utf8')).trim().split('\n');
    const full = lines.find((l) => l.split(' ')[2]!.length === 2 * 1025);
    if (!full) throw new Error('no complete frame in the trace');
    firstFrame.push(Number(full.split(' ')[0]));
  }
  await rm(dir, { recursive: true });
  firstFrame.sort((a, b) => a - b);
  const median = firstFrame[Math.floor(RUNS / 2)]!;
  console.log(
    `sim start -> first complete panel frame on the bus: median ${median.toFixed(1)} ms over ${RUNS} runs`,
  );
  console.log(
    `  (min ${firstFrame[0]!.toFixed(1)} ms, max ${firstFrame.at(-1)!.toFixed(1)} ms; measured from process start)`,
  );
  console.log(
    `  whole headless run of 0.5 s incl. start and stop: median ${wall.sort((a, b) => a - b)[2]!.toFixed(0)} ms`,
  );
}
