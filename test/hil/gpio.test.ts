import { describe, expect, it } from 'vitest';
import { guestJson, runInRig, type MachineName, type RigResult } from '../rig/qemu.js';

// Board 2: power on line 0, reset on line 1; board 3: power on line 2, reset on line 4. The chip is named once
// by its label and once by its device name, as an owner may write either.
const config = (backend: string): string => `
[box]
boards = 4
[supervisor]
power_on_gap_ms = 700
state_dir = "/tmp/skyminer"
watchdog = "/dev/no-watchdog"
[panel]
enabled = false
[rewards]
enabled = false
[auth]
box_secret = "/tmp/box.key"
board_key = "/tmp/board.key"
[gpio]
backend = "${backend}"
[[gpio.boards]]
power = { chip = "9030000.pl061", offset = 0 }
reset = { chip = "gpiochip0", offset = 1 }
[[gpio.boards]]
power = { chip = "gpiochip0", offset = 2 }
reset = { chip = "9030000.pl061", offset = 4 }
`;

const RESET_PULSE_MS = 400;
const CYCLE_OFF_MS = 1500;

// The guest exercises the lines with the supervisor's own wiring, exits (releasing every line), then starts and
// stops the real supervisor command: that restart must leave every line exactly as it is (no event at all in
// QEMU's view of the controller).
const script = `
echo ${'ab'.repeat(32)} > /tmp/box.key
node dist/test/hil/guest/gpio-lines.js /etc/skyminer.toml ${RESET_PULSE_MS} ${CYCLE_OFF_MS} || exit 1
echo "RIG-MARK supervisor-1"
node dist/firmware/cli/main.js supervisor --config /etc/skyminer.toml 2>/tmp/supervisor.log &
pid=$!
n=0; until grep -q watching /tmp/supervisor.log || [ $n -ge 3000 ]; do sleep 0.1; n=$((n+1)); done
sleep 1
kill -TERM $pid; wait $pid; echo "RIG-SUPERVISOR-EXIT $?"
sed 's/^/RIG-LOG /' /tmp/supervisor.log
echo "RIG-MARK end"
`;

interface Edge {
  atMs: number;
  line: number;
  level: number;
}

/** QEMU's view of the PL061's outputs: "... setting output 4 to 1". */
function edges(result: RigResult): Edge[] {
  return result.trace
    .filter((t) => t.event === 'pl061_set_output')
    .map((t) => {
      const m = /setting output (\d+) to (\d+)/.exec(t.args)!;
      return { atMs: t.atMs, line: Number(m[1]), level: Number(m[2]) };
    });
}

const markAt = (result: RigResult, mark: string): number => {
  const line = result.lines.find((l) => l.text === `RIG-MARK ${mark}`);
  if (!line) throw new Error(`no mark ${mark} on the console`);
  return line.atMs;
};

// The 32-bit target runs the character device only: its ioctl structures are what differs between ABIs,
// while the sysfs backend is plain file I/O, and Node on armv7 under TCG costs minutes per boot.
const cases: [MachineName, 'chardev' | 'sysfs'][] = [
  ['virt-arm64', 'chardev'],
  ['virt-arm64', 'sysfs'],
  ['virt-armhf', 'chardev'],
];

describe.each(cases)('GPIO power and reset lines on %s (PL061) through %s', (machine, backend) => {
  it('powers boards on one by one, pulses reset and cycles power with the set timings, and a supervisor restart moves no line', async () => {
    const result = await runInRig({
      machine,
      script,
      trace: ['pl061_set_output'],
      files: { '/etc/skyminer.toml': config(backend) },
      timeoutMs: 500_000,
    });
    const log = result.lines.map((l) => l.text).join('\n');
    expect(result.scriptExit, log).toBe(0);
    expect(guestJson<{ levels: unknown }>(result, 'gpio').levels).toEqual([
      { power: 1, reset: 0 },
      { power: 1, reset: 0 },
    ]);
    expect(log).not.toMatch(/RIG-LOG error: gpio/);
    expect(log).toContain('RIG-SUPERVISOR-EXIT 0');
    expect(log).toMatch(/RIG-LOG supervisor: watching 4 boards/);

    // The machine's own reset sets every output to 0 before Linux runs; what counts starts with the guest.
    const seen = edges(result).filter((e) => e.atMs >= markAt(result, 'start'));
    const restarts = markAt(result, 'supervisor-1');
    const during = seen.filter((e) => e.atMs >= restarts);
    // The supervisor command adopted, held and released all four lines: nothing moved.
    expect(during).toEqual([]);

    const byLine = (line: number): Edge[] => seen.filter((e) => e.line === line);
    const levels = (line: number): number[] => byLine(line).map((e) => e.level);
    // Reset lines start released (0), pulse once for board 2; power lines go on, board 3's cycles off and on.
    expect(levels(0)).toEqual([1]);
    expect(levels(1)).toEqual([1, 0]);
    expect(levels(2)).toEqual([1, 0, 1]);
    expect(levels(4)).toEqual([]);
    for (const line of [3, 5, 6, 7]) expect(levels(line)).toEqual([]);

    // Staggered power-on: board 3 one gap after board 2. Both timers start together and the first write pays
    // for code run the first time, so the measured gap may come out a little short.
    const gap = byLine(2)[0]!.atMs - byLine(0)[0]!.atMs;
    expect(gap).toBeGreaterThanOrEqual(700 - 150);
    expect(gap).toBeLessThan(700 + 500);
    const pulse = byLine(1)[1]!.atMs - byLine(1)[0]!.atMs;
    expect(pulse).toBeGreaterThanOrEqual(RESET_PULSE_MS - 10);
    expect(pulse).toBeLessThan(RESET_PULSE_MS + 500);
    const off = byLine(2)[2]!.atMs - byLine(2)[1]!.atMs;
    expect(off).toBeGreaterThanOrEqual(CYCLE_OFF_MS - 10);
    expect(off).toBeLessThan(CYCLE_OFF_MS + 500);
  });
});
