import type { Config } from '../config/schema.js';
import type { Policy } from './board-state.js';

/** The decision policy the config describes. */
export function policyFromConfig(config: Config): Policy {
  const s = config.supervisor;
  return {
    heartbeatTimeoutMs: s.heartbeat_timeout_ms,
    installSilenceMs: s.install_silence_s * 1000,
    bootTimeoutMs: s.boot_timeout_s * 1000,
    probeTimeoutMs: s.probe_timeout_ms,
    probeIntervalMs: s.probe_interval_ms,
    softRebootAckMs: s.soft_reboot_ack_ms,
    powerOffMs: s.power_off_ms,
    restartCap: s.restart_cap,
    restartWindowMs: s.restart_window_s * 1000,
    stableUptimeMs: s.stable_uptime_s * 1000,
    quarantine: s.quarantine,
    networkSettleMs: s.network_settle_ms,
  };
}

/** The Supervisor options that come straight from the config (the caller adds lines, keys and sinks). */
export function supervisorSettings(config: Config): {
  boards: number;
  policy: Policy;
  powerOnGapMs: number;
  tickMs: number;
  resetPulseMs: number;
  replayWindowMs: number;
} {
  return {
    boards: config.box.boards,
    policy: policyFromConfig(config),
    powerOnGapMs: config.supervisor.power_on_gap_ms,
    tickMs: config.supervisor.tick_ms,
    resetPulseMs: config.supervisor.reset_pulse_ms,
    replayWindowMs: config.supervisor.replay_window_s * 1000,
  };
}
