import type { BoardStatus } from '../supervisor/board-state.js';
import type { SupervisorEvent } from '../supervisor/event-log.js';
import type { BoardView, BoxView } from '../supervisor/view.js';
import type { DiskJson, RewardsJson, SkywireJson } from '../control/sources.js';

/** Every line the console and the CLI print fits an 80-column terminal. */
export const WIDTH = 80;

/** `42s`, `3m 07s`, `5h 02m`, `3d 04h`: short enough for a table column. */
export function duration(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** `931.5 GB`, `2.0 TB`: decimal units, as disks are sold. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `12.3 Mbit/s`: network rates in bits per second. */
export function bitRate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '-';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let value = bps;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} bit/s` : `${value.toFixed(1)} ${units[unit]}`;
}

function cut(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + '…' : text;
}

/** Only printable characters of data that came from elsewhere (disk models, reasons), cut to a width. */
export function clean(text: unknown, width = WIDTH): string {
  const s = typeof text === 'string' ? text : text === null || text === undefined ? '-' : String(text);
  return cut(s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'), width);
}

export interface Column {
  title: string;
  align?: 'left' | 'right';
  /** Widest the column may grow; longer cells are cut with an ellipsis. */
  max?: number;
}

/** A plain-text table: columns as wide as their widest cell (within `max`), two spaces apart, no line over 80. */
export function table(columns: Column[], rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell, i) => clean(cell, columns[i]?.max ?? WIDTH)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (row: string[]): string =>
    cut(
      row
        .map((cell, i) =>
          columns[i]?.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
      WIDTH,
    );
  return [line(columns.map((c) => c.title)), ...cells.map(line)].join('\n');
}

const health = (b: BoardView): string => (b.healthy === undefined ? '-' : b.healthy ? 'ok' : 'failing');

export function boardsTable(view: BoxView): string {
  return table(
    [
      { title: 'BOARD', align: 'right' },
      { title: 'ROLE' },
      { title: 'STATUS' },
      { title: 'FOR', align: 'right' },
      { title: 'UPTIME', align: 'right' },
      { title: 'HEALTH' },
    ],
    view.boards.map((b) => [
      String(b.board),
      b.role,
      b.status,
      duration(b.forS),
      duration(b.uptimeS),
      health(b),
    ]),
  );
}

/** The stable JSON of one board: snake_case keys, null for what is not known. */
export function boardJson(b: BoardView): Record<string, unknown> {
  const t = b.telemetry;
  return {
    board: b.board,
    role: b.role,
    status: b.status,
    for_s: b.forS,
    uptime_s: b.uptimeS ?? null,
    healthy: b.healthy ?? null,
    failing: b.failing ?? [],
    // Live figures only while the board is up; what the board is stays known from its last report.
    figures:
      t && b.status === 'up'
        ? {
            cpu_pct: t.cpu_pct,
            load1: t.load1,
            mem_used_bytes: t.mem_used_bytes,
            mem_total_bytes: t.mem_total_bytes,
            temp_c: t.temp_c,
            net_rx_bps: t.net_rx_bps,
            net_tx_bps: t.net_tx_bps,
          }
        : null,
    inventory: t?.inventory ?? null,
    // The board's Skywire visor as its agent last reported it (null: no visor service on the board).
    visor: t?.visor && b.status === 'up' ? t.visor : null,
  };
}

export function boardDetail(b: BoardView, events: SupervisorEvent[]): string {
  const lines = [
    `board ${b.board} (${b.role}): ${b.status} for ${duration(b.forS)}`,
    `  uptime ${duration(b.uptimeS)} · health ${health(b)}`,
  ];
  const t = b.telemetry;
  if (t && b.status === 'up') {
    const num = (v: number | null, unit: string): string => (v === null ? '-' : `${v}${unit}`);
    lines.push(
      clean(
        `  cpu ${num(t.cpu_pct, '%')} · load ${num(t.load1, '')} · ram ${bytes(t.mem_used_bytes)} of ` +
          `${bytes(t.mem_total_bytes)} · ${num(t.temp_c, ' C')} · net in ${bitRate(t.net_rx_bps === null ? null : t.net_rx_bps * 8)} ` +
          `out ${bitRate(t.net_tx_bps === null ? null : t.net_tx_bps * 8)}`,
      ),
    );
  }
  const inv = t?.inventory;
  if (inv) {
    const or = (v: string | null): string => v ?? '-';
    lines.push(
      clean(`  ${or(inv.model)}${inv.soc ? ` (${inv.soc})` : ''} · serial ${or(inv.serial)}`),
      clean(`  mac ${or(inv.mac)} · ${or(inv.os)} · kernel ${or(inv.kernel)}`),
    );
  }
  if (events.length) lines.push('recent events:', ...events.map((e) => '  ' + eventLine(e).trimStart()));
  return lines.join('\n');
}

/** Statuses an owner should look at, worst first. */
const ATTENTION: BoardStatus[] = ['quarantined', 'failed', 'restarting', 'suspect', 'off', 'booting'];

export interface StatusJson {
  boards: number;
  up: number;
  booting: number;
  off: number;
  suspect: number;
  failed: number;
  restarting: number;
  quarantined: number;
  attention: { board: number; status: BoardStatus; for_s: number }[];
  disks: { total: number; ok: number; warning: number; failing: number; unknown: number } | null;
  rewards: { sky_per_hour_est: number; sky_per_day_est: number; stale: boolean } | null;
}

export function statusJson(view: BoxView, disks: DiskJson[] | null, rewards: RewardsJson | null): StatusJson {
  const count = (s: BoardStatus): number => view.boards.filter((b) => b.status === s).length;
  const attention = view.boards
    .filter((b) => b.status !== 'up')
    .sort((a, b) => ATTENTION.indexOf(a.status) - ATTENTION.indexOf(b.status) || a.board - b.board)
    .map((b) => ({ board: b.board, status: b.status, for_s: b.forS }));
  const verdicts = (v: DiskJson['verdict']): number => (disks ?? []).filter((d) => d.verdict === v).length;
  return {
    boards: view.boards.length,
    up: count('up'),
    booting: count('booting'),
    off: count('off'),
    suspect: count('suspect'),
    failed: count('failed'),
    restarting: count('restarting'),
    quarantined: count('quarantined'),
    attention,
    disks: disks
      ? {
          total: disks.length,
          ok: verdicts('ok'),
          warning: verdicts('warning'),
          failing: verdicts('failing'),
          unknown: verdicts('unknown'),
        }
      : null,
    rewards: rewards
      ? {
          sky_per_hour_est: rewards.box.sky_per_hour_est,
          sky_per_day_est: rewards.box.sky_per_day_est,
          stale: rewards.box.stale,
        }
      : null,
  };
}

export function statusText(s: StatusJson): string {
  const parts = [`${s.up} up`];
  if (s.booting) parts.push(`${s.booting} booting`);
  if (s.off) parts.push(`${s.off} off`);
  if (s.suspect) parts.push(`${s.suspect} suspect`);
  if (s.failed) parts.push(`${s.failed} FAILED`);
  if (s.restarting) parts.push(`${s.restarting} restarting`);
  if (s.quarantined) parts.push(`${s.quarantined} QUARANTINED`);
  const lines = [`Skyminer: ${s.boards} boards · ${parts.join(' · ')}`];
  for (const a of s.attention) lines.push(`  board ${a.board}: ${a.status} for ${duration(a.for_s)}`);
  if (s.disks) {
    const d = s.disks;
    const bits = [
      `${d.ok} ok`,
      d.warning && `${d.warning} warning`,
      d.failing && `${d.failing} FAILING`,
      d.unknown && `${d.unknown} not read`,
    ];
    lines.push(`Disks: ${d.total} · ${bits.filter(Boolean).join(' · ')}`);
  } else lines.push('Disks: not available');
  if (s.rewards) {
    const r = s.rewards;
    lines.push(
      `Rewards: ~${r.sky_per_day_est.toFixed(2)} SKY/day, ~${r.sky_per_hour_est.toFixed(3)} SKY/hour (estimates)${r.stale ? ' · STALE' : ''}`,
    );
  } else lines.push('Rewards: not available');
  return lines.map((l) => cut(l, WIDTH)).join('\n');
}

export function disksTable(disks: DiskJson[]): string {
  if (disks.length === 0) return 'no disks found';
  const rows = disks.map((d) => [
    String(d.board),
    d.disk,
    d.model ?? '-',
    bytes(d.size_bytes),
    d.verdict,
    d.temperature_c === null ? '-' : `${d.temperature_c}C`,
    d.used_pct === null ? '-' : `${Math.round(d.used_pct)}%`,
    d.mounted ? 'yes' : 'no',
  ]);
  const lines = [
    table(
      [
        { title: 'BOARD', align: 'right' },
        { title: 'DISK', max: 8 },
        { title: 'MODEL', max: 20 },
        { title: 'SIZE', align: 'right' },
        { title: 'VERDICT' },
        { title: 'TEMP', align: 'right' },
        { title: 'USED', align: 'right' },
        { title: 'MOUNTED' },
      ],
      rows,
    ),
  ];
  for (const d of disks) {
    if (d.verdict !== 'ok' && d.reasons.length) {
      lines.push(clean(`board ${d.board} ${d.disk}: ${d.reasons.join('; ')}`));
    }
  }
  return lines.join('\n');
}

export function rewardsText(r: RewardsJson): string {
  const b = r.box;
  const lines = [
    clean(
      `Estimate: ~${b.sky_per_hour_est.toFixed(3)} SKY/hour, ~${b.sky_per_day_est.toFixed(2)} SKY/day (paid daily)${b.stale ? ' · STALE' : ''}`,
    ),
    clean(
      `Balance: ${b.balance_sky === null ? '-' : `${b.balance_sky} SKY`} · coin hours ${b.coin_hours ?? '-'} · last payout ${
        b.last_payout_sky === null ? '-' : `${b.last_payout_sky} SKY`
      }`,
    ),
    ...addressLines(r),
    clean(
      `Version floor: ${b.min_version}${b.min_version_from ? ` from ${b.min_version_from}` : ''} · below it: ${belowFloor(r)}`,
    ),
    table(
      [
        { title: 'BOARD', align: 'right' },
        { title: 'ONLINE' },
        { title: 'UPTIME', align: 'right' },
        { title: 'ON TRACK' },
        { title: 'RX', align: 'right' },
        { title: 'TX', align: 'right' },
        { title: 'VERSION', max: 9 },
        { title: 'KEY', max: 10 },
      ],
      r.boards.map((x) => [
        String(x.board),
        x.online ? 'yes' : 'no',
        `${x.uptime_today_pct.toFixed(1)}%`,
        x.on_track ? 'yes' : 'no',
        bitRate(x.rx_bps),
        bitRate(x.tx_bps),
        x.version ?? '-',
        x.pk ?? '-',
      ]),
    ),
  ];
  for (const x of r.boards) {
    if (x.reasons.length) lines.push(clean(`board ${x.board}: ${x.reasons.join('; ')}`));
    if (x.warnings.length) lines.push(clean(`board ${x.board}: ${x.warnings.join('; ')}`));
  }
  return lines.join('\n');
}

/** The box's reward address and, per standing, the boards where it took or did not. */
function addressLines(r: RewardsJson): string[] {
  const chosen = r.box.reward_address;
  if (chosen === null)
    return ['Reward address: none chosen (rewards address <address> sets it on every board)'];
  const boardsOf = (ns: number[]) => `${ns.length === 1 ? 'board' : 'boards'} ${ns.join(', ')}`;
  const groups: [string, (x: RewardsJson['boards'][number]) => boolean][] = [
    ['set on', (x) => x.reward_address_status === 'set' && x.reward_address_via !== 'board'],
    ['set on the board itself (not listed by the hypervisor):', (x) => x.reward_address_via === 'board'],
    ['being set on', (x) => x.reward_address_status === 'setting'],
    ['failed on', (x) => x.reward_address_status === 'failed'],
    ['not listed by the hypervisor:', (x) => x.reward_address_status === 'unreachable'],
  ];
  const parts = groups.flatMap(([words, pick]) => {
    const ns = r.boards.filter(pick).map((x) => x.board);
    return ns.length ? [`${words} ${boardsOf(ns)}`] : [];
  });
  return [
    clean(`Reward address: ${chosen}`),
    clean(`  ${parts.join(' · ') || 'no boards'}`),
    ...r.boards
      .filter((x) => x.reward_address_status === 'failed' && x.reward_address_error)
      .map((x) => clean(`  board ${x.board}: ${x.reward_address_error}`)),
  ];
}

/** The boards whose visor is below the version floor, as the floor line says them. */
function belowFloor(r: RewardsJson): string {
  const below = r.boards.filter((x) => x.version_standing === 'below').map((x) => x.board);
  const soon = r.boards.filter((x) => x.version_standing === 'below-soon').map((x) => x.board);
  if (!below.length && !soon.length) return 'none';
  const list = (ns: number[]) => (ns.length === 1 ? `board ${ns[0]}` : `boards ${ns.join(', ')}`);
  return [
    ...(below.length ? [`${list(below)} (not earning)`] : []),
    ...(soon.length ? [`${list(soon)} (must update by then)`] : []),
  ].join(', ');
}

/** `skywire`: where the hypervisor UI is, then one line per board's visor. */
export function skywireText(s: SkywireJson): string {
  const hv = s.hypervisor;
  const source = hv.ok
    ? ''
    : hv.error
      ? ` · hypervisor not answering: ${hv.error}${hv.age_s !== null ? ` (figures ${hv.age_s}s old)` : ''}`
      : ' · hypervisor not read yet';
  const lines = [
    clean(`Hypervisor UI: ${s.hypervisor_ui || '-'}${source}`),
    table(
      [
        { title: 'BOARD', align: 'right' },
        { title: 'RUNNING' },
        { title: 'VERSION', max: 9 },
        { title: 'DMSG' },
        { title: 'RTT', align: 'right' },
        { title: 'SERVICES', max: 10 },
        { title: 'UPTIME', align: 'right' },
        { title: 'KEY', max: 12 },
      ],
      s.visors.map((v) => [
        String(v.board),
        v.running ? 'yes' : 'no',
        v.version ?? '-',
        v.running ? (v.dmsg_connected ? 'yes' : 'no') : '-',
        v.dmsg_rtt_ms === null ? '-' : `${v.dmsg_rtt_ms.toFixed(1)}ms`,
        v.services_health ?? '-',
        v.uptime_s === null ? '-' : duration(v.uptime_s),
        v.pk ?? '-',
      ]),
    ),
  ];
  const away = s.visors.filter((v) => !v.running).map((v) => v.board);
  if (away.length)
    lines.push(
      clean(
        `not listed by the hypervisor: ${away.length === 1 ? 'board' : 'boards'} ${away.join(', ')} (visor stopped or not on dmsg)`,
      ),
    );
  return lines.join('\n');
}

/** One event on one line: time since the supervisor started, board, name, then its details as key=value. */
export function eventLine(e: SupervisorEvent): string {
  const details = Object.entries(e)
    .filter(([k]) => k !== 't' && k !== 'board' && k !== 'event')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const t = typeof e.t === 'number' ? `${e.t.toFixed(2)}s` : '-';
  return clean(
    `${t.padStart(10)}  board ${String(e.board).padEnd(2)}  ${e.event}${details ? '  ' + details : ''}`,
  );
}
