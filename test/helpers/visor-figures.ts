// A board's visor as its heartbeat reports it, running and healthy unless a test says otherwise.
import type { BoardVisorFigures } from '../../firmware/protocol/figures.js';

export const visorFigures = (over: Partial<BoardVisorFigures> = {}): BoardVisorFigures => ({
  status: 'running',
  pk: `02${'11'.repeat(32)}`,
  hypervisor_pk: `03${'22'.repeat(32)}`,
  version: 'v1.3.28',
  dmsg_connected: true,
  hypervisor_connected: true,
  round_trip_ms: 2,
  services_health: 'healthy',
  uptime_s: 12,
  restarts: 0,
  sick: false,
  last_exit: null,
  rx_bytes: null,
  tx_bytes: null,
  rx_bps: null,
  tx_bps: null,
  reward_address: null,
  ...over,
});
