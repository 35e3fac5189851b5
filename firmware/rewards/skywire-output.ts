// `skyminer skywire`: each board's visor as the manager's hypervisor lists it, in one stable JSON form.
import type { BoardVisor, SourceView } from './service.js';

export interface VisorJson {
  board: number;
  local_ip: string;
  /** The hypervisor lists the visor now (connected over dmsg): the sign that it runs. */
  running: boolean;
  pk: string | null;
  version: string | null;
  dmsg_connected: boolean;
  /** dmsg round trip in milliseconds; null when not measured or not running. */
  dmsg_rtt_ms: number | null;
  /** `connecting` for the first five minutes of every visor start, then `healthy`: not an alarm by itself. */
  services_health: string | null;
  uptime_s: number | null;
  reward_address: string | null;
}

export interface SkywireJson {
  /** Where the owner opens the hypervisor's web UI. */
  hypervisor_ui: string;
  hypervisor: { ok: boolean; stale: boolean; age_s: number | null; error: string | null };
  visors: VisorJson[];
}

/** The visors as `skyminer skywire --json` prints them; a visor not listed keeps only what does not change. */
export function skywireJson(
  visors: { boards: BoardVisor[]; hypervisor: SourceView },
  hypervisorUi: string,
): SkywireJson {
  return {
    hypervisor_ui: hypervisorUi,
    hypervisor: {
      ok: visors.hypervisor.ok,
      stale: visors.hypervisor.stale,
      age_s: visors.hypervisor.ageS === null ? null : Math.round(visors.hypervisor.ageS),
      error: visors.hypervisor.error,
    },
    visors: visors.boards.map((b) => {
      const f = b.figures;
      const live = b.listed && f !== null;
      return {
        board: b.board,
        local_ip: b.localIp,
        running: live,
        pk: f?.pk ?? null,
        version: f?.version ?? null,
        dmsg_connected: live && f.dmsgConnected,
        dmsg_rtt_ms: live && f.dmsgRoundTripMs !== null ? Number(f.dmsgRoundTripMs.toFixed(2)) : null,
        services_health: live ? f.servicesHealth : null,
        uptime_s: live && f.uptimeS !== null ? Math.round(f.uptimeS) : null,
        reward_address: f?.rewardAddress ?? null,
      };
    }),
  };
}
