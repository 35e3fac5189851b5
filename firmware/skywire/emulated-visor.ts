import { createHash } from 'node:crypto';

export interface EmulatedVisorOptions {
  pk: string;
  localIp: string;
  version?: string;
  rewardAddress?: string;
  /** Transports kept to other visors; each carries its own byte counters. */
  transports?: number;
  /** True for the visor that hosts the hypervisor (the manager's). */
  isHypervisor?: boolean;
}

interface Transport {
  id: string;
  remote: string;
  recv: number;
  sent: number;
}

/** A deterministic 33-byte compressed public key (66 hex digits) for a name, as visors have. */
export function emulatedPk(name: string): string {
  return '02' + createHash('sha256').update(name).digest('hex');
}

function uuidFrom(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * One Skywire visor as its hypervisor reports it. Started, it counts uptime from then and its transports count
 * bytes from zero, as a freshly started visor process does; stopped, it is offline.
 */
export class EmulatedVisor {
  readonly pk: string;
  readonly localIp: string;
  version: string;
  rewardAddress: string;
  readonly isHypervisor: boolean;
  online = false;
  private startedAtMs = 0;
  private readonly transports: Transport[] = [];
  private generation = 0;
  private readonly transportCount: number;

  constructor(options: EmulatedVisorOptions) {
    this.pk = options.pk;
    this.localIp = options.localIp;
    this.version = options.version ?? 'v1.3.28';
    this.rewardAddress = options.rewardAddress ?? '';
    this.isHypervisor = options.isHypervisor ?? false;
    this.transportCount = options.transports ?? 2;
  }

  start(nowMs: number): void {
    this.online = true;
    this.startedAtMs = nowMs;
    this.generation++;
    this.transports.length = 0;
    for (let i = 0; i < this.transportCount; i++) {
      const remote = emulatedPk(`${this.pk}/peer/${i}`);
      this.transports.push({ id: uuidFrom(`${this.pk}/${this.generation}/${i}`), remote, recv: 0, sent: 0 });
    }
  }

  stop(nowMs: number): void {
    if (!this.online) return;
    this.online = false;
    void nowMs;
  }

  /** Adds traffic to the transports, spread evenly. */
  carry(recvBytes: number, sentBytes: number): void {
    if (!this.online || this.transports.length === 0) return;
    const n = this.transports.length;
    for (const t of this.transports) {
      t.recv += Math.round(recvBytes / n);
      t.sent += Math.round(sentBytes / n);
    }
  }

  /** The bytes of every transport since the visor started, as its own transport logs would sum them. */
  traffic(): { recv: number; sent: number } {
    return this.transports.reduce((t, x) => ({ recv: t.recv + x.recv, sent: t.sent + x.sent }), {
      recv: 0,
      sent: 0,
    });
  }

  uptimeS(nowMs: number): number {
    return this.online ? Math.max(0, nowMs - this.startedAtMs) / 1000 : 0;
  }

  /** `build_info` as the hypervisor reports it. */
  buildInfo(): { version: string; commit: string; date: string } {
    return { version: this.version, commit: '6e9ddf92', date: '2024-09-29T18:33:58Z' };
  }

  /**
   * The JSON a hypervisor serves for this visor, shaped as v1.3.28's: empty lists are `null`, `dmsg_stats` is never
   * null, `services_health` is `connecting` for the first 300 s after a start. A remote visor names the hypervisor
   * in `hypervisors` and `connected_hypervisor`, and its own summary (`/api/visors/{pk}/summary`) says `online:
   * false` even while connected; in `/api/visors-summary` (`listed`) it says true.
   */
  summary(
    nowMs: number,
    as: { hypervisorPk?: string | null; listed?: boolean } = { listed: true },
  ): Record<string, unknown> {
    const remote = !this.isHypervisor && !!as.hypervisorPk;
    const transports =
      this.online && this.transports.length > 0
        ? this.transports.map((t) => ({
            id: t.id,
            local_pk: this.pk,
            remote_pk: t.remote,
            type: 'stcpr',
            log: { recv: t.recv, sent: t.sent },
            is_setup: false,
            is_up: true,
            label: 'automatic',
          }))
        : null;
    const uptime = this.uptimeS(nowMs);
    return {
      overview: {
        local_pk: this.pk,
        build_info: this.buildInfo(),
        app_protocol_version: '0.1.0',
        apps: null,
        transports,
        routes_count: 0,
        local_ip: this.localIp,
        public_ip: 'Test failed',
        is_symmetic_nat: false,
        hypervisors: remote ? [as.hypervisorPk] : [],
        connected_hypervisor: remote ? [as.hypervisorPk] : null,
      },
      health: { services_health: this.online && uptime >= 300 ? 'healthy' : 'connecting' },
      uptime,
      routes: this.isHypervisor ? [] : null,
      ...(this.isHypervisor ? { is_hypervisor: true } : {}),
      dmsg_stats: this.online
        ? { public_key: this.pk, server_public_key: emulatedPk('dmsg-server'), round_trip: 42_000_000 }
        : { public_key: '0'.repeat(66), server_public_key: '0'.repeat(66), round_trip: 0 },
      online: this.online && (this.isHypervisor || !as.hypervisorPk || as.listed === true),
      min_hops: 0,
      persistent_transports: null,
      skybian_build_version: '',
      reward_address: this.rewardAddress,
      build_tag: 'linux_arm64',
      public_autoconnect: true,
    };
  }
}
