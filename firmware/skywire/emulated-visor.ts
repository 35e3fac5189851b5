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
  private lastSeenMs: number | null = null;
  private offlineSinceMs: number | null = null;
  private readonly transports: Transport[] = [];
  private generation = 0;
  private readonly transportCount: number;

  constructor(options: EmulatedVisorOptions) {
    this.pk = options.pk;
    this.localIp = options.localIp;
    this.version = options.version ?? 'v1.3.29';
    this.rewardAddress = options.rewardAddress ?? '';
    this.isHypervisor = options.isHypervisor ?? false;
    this.transportCount = options.transports ?? 2;
  }

  start(nowMs: number): void {
    this.online = true;
    this.startedAtMs = nowMs;
    this.offlineSinceMs = null;
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
    this.offlineSinceMs = nowMs;
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

  uptimeS(nowMs: number): number {
    return this.online ? Math.max(0, nowMs - this.startedAtMs) / 1000 : 0;
  }

  /** The JSON a hypervisor serves for this visor (`/api/visors/{pk}/summary`, an element of visors-summary). */
  summary(nowMs: number): Record<string, unknown> {
    if (this.online) this.lastSeenMs = nowMs;
    const transports = this.online
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
    return {
      overview: {
        local_pk: this.pk,
        build_info: { version: this.version, commit: 'emulated', date: '2025-01-01T00:00:00Z' },
        app_protocol_version: '0.1.0',
        apps: [],
        transports,
        routes_count: 0,
        local_ip: this.localIp,
        public_ip: '203.0.113.7',
        is_symmetic_nat: false,
        hypervisors: [],
        connected_hypervisor: [],
      },
      health: { services_health: this.online ? 'healthy' : '' },
      uptime: this.uptimeS(nowMs),
      routes: [],
      ...(this.isHypervisor ? { is_hypervisor: true } : {}),
      dmsg_stats: this.online
        ? { public_key: this.pk, server_public_key: emulatedPk('dmsg-server'), round_trip: 42_000_000 }
        : null,
      dmsg_servers: [],
      online: this.online,
      ...(this.offlineSinceMs !== null ? { offline_since: new Date(this.offlineSinceMs).toISOString() } : {}),
      ...(this.lastSeenMs !== null ? { last_seen_at: new Date(this.lastSeenMs).toISOString() } : {}),
      min_hops: 0,
      persistent_transports: [],
      reward_address: this.rewardAddress,
      build_tag: 'linux_arm64',
      config_version: this.version,
      public_autoconnect: true,
    };
  }
}
