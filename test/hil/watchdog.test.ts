import { describe, expect, it } from 'vitest';
import { runInRig, type MachineName } from '../rig/qemu.js';

const TIMEOUT_S = 4;

const config = `
[box]
slot = 2
[network]
manager_address = "127.0.0.1"
[agent]
watchdog = "/dev/watchdog"
watchdog_timeout_s = ${TIMEOUT_S}
# The guest's root is an initramfs whose statfs reports no blocks: only the loop and memory checks apply here,
# so the test measures the watchdog and not the guest's shape.
min_root_free_percent = 0
event_loop_lag_ms = 3000
[auth]
box_secret = "/tmp/box.key"
board_key = "/tmp/board.key"
`;

// Healthy agent for more than two timeouts, a clean stop, more than two timeouts without anyone petting,
// then a second agent that stalls (SIGSTOP): the i6300ESB must take the machine down.
const script = `
echo ${'ab'.repeat(32)} > /tmp/box.key
wd=/sys/class/watchdog/watchdog0
start_agent() {
  # Emptied here, not by the redirect: the child truncates it only once it runs, and the wait below could
  # otherwise find the previous agent's "armed" line.
  : > /tmp/agent.log
  node dist/firmware/cli/main.js agent --config /etc/skyminer.toml 2>>/tmp/agent.log &
  pid=$!
  n=0; until grep -q 'armed' /tmp/agent.log || [ $n -ge 2500 ]; do sleep 0.2; n=$((n+1)); done
  sed 's/^/RIG-LOG /' /tmp/agent.log
}
start_agent
echo "RIG-WD armed timeout=$(cat $wd/timeout) state=$(cat $wd/state)"
sleep ${TIMEOUT_S * 3}
echo "RIG-WD healthy state=$(cat $wd/state)"
kill -TERM $pid; wait $pid; echo "RIG-WD agent-exit=$?"
echo "RIG-WD stopped state=$(cat $wd/state)"
sleep ${TIMEOUT_S * 3}
echo "RIG-WD survived-stop"
start_agent
echo "RIG-WD rearmed state=$(cat $wd/state)"
kill -STOP $pid
echo "RIG-MARK stalled"
sleep ${TIMEOUT_S * 8}
echo "RIG-WD not-reset"
`;

// Debian's armmp kernel has no i6300ESB driver (a PC chipset part), so the 32-bit virt machine has no watchdog
// the kernel drives; the i.MX6 watchdog of the sabrelite board (imx2_wdt) is the 32-bit candidate.
const machines: MachineName[] = ['virt-arm64'];

describe.each(machines)('the board watchdog on %s (i6300ESB)', (machine) => {
  it('is armed by the agent with the set timeout, kept alive while healthy, disarmed by a clean stop, and resets a stalled board', async () => {
    const result = await runInRig({
      machine,
      script,
      modules: ['i6300esb'],
      qemuArgs: ['-device', 'i6300esb', '-action', 'watchdog=poweroff'],
      files: { '/etc/skyminer.toml': config },
      timeoutMs: 500_000,
    });
    const text = result.lines.map((l) => l.text);
    const log = text.join('\n');
    expect(log).toContain(`RIG-LOG agent: /dev/watchdog armed, ${TIMEOUT_S} s`);
    expect(text, log).toContain(`RIG-WD armed timeout=${TIMEOUT_S} state=active`);
    expect(text, log).toContain('RIG-WD healthy state=active');
    expect(text, log).toContain('RIG-WD agent-exit=0');
    expect(text, log).toContain('RIG-WD stopped state=inactive');
    expect(text, log).toContain('RIG-WD survived-stop');
    expect(text, log).toContain('RIG-WD rearmed state=active');
    // The stalled agent stops petting; QEMU powers off (its watchdog action) well before the script ends.
    expect(text, log).not.toContain('RIG-WD not-reset');
    expect(result.scriptExit).toBeNull();
    expect(result.qemuExit, log).toBe(0);
    const stalledAt = result.lines.find((l) => l.text === 'RIG-MARK stalled')!.atMs;
    const downAfterS = (result.endedAtMs - stalledAt) / 1000;
    // The i6300ESB runs two stages of the timeout before it resets.
    expect(downAfterS).toBeGreaterThan(TIMEOUT_S - 1);
    expect(downAfterS).toBeLessThan(2 * TIMEOUT_S + 4);
  });
});
