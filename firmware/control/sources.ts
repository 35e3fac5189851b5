/**
 * Optional data sources the control server serves beside the supervisor itself. Each belongs to another part
 * (disks, rewards, panel, config); when one is absent the matching command says that its data is not available.
 * The types repeat the JSON shapes those parts print, so that the console depends on the shapes, not the parts.
 */

/** One disk as `skyminer disks --json` prints it. */
export interface DiskJson {
  board: number;
  disk: string;
  model: string | null;
  serial: string | null;
  size_bytes: number;
  verdict: 'ok' | 'warning' | 'failing' | 'unknown';
  reasons: string[];
  temperature_c: number | null;
  mounted: boolean;
  used_pct: number | null;
}

/** One board's reward standing; `rx_bps`/`tx_bps` are null until a rate is known. */
export interface BoardRewardsJson {
  board: number;
  pk: string | null;
  online: boolean;
  uptime_today_pct: number;
  on_track: boolean;
  reasons: string[];
  rx_bps: number | null;
  tx_bps: number | null;
}

/** The box's rewards; the `_est` figures are estimates, the payout is daily. */
export interface BoxRewardsJson {
  sky_per_hour_est: number;
  sky_per_day_est: number;
  balance_sky: number | null;
  coin_hours: number | null;
  last_payout_sky: number | null;
  stale: boolean;
}

export interface RewardsJson {
  boards: BoardRewardsJson[];
  box: BoxRewardsJson;
}

/** The front panel as the console drives it. */
export interface PanelControl {
  /** Pins a page by name; null resumes cycling through the pages. Throws on an unknown name. */
  pin(name: string | null): void;
  pages(): string[];
  dim(): void;
  off(): void;
  on(): void;
  /** The picture on the panel now, as a PNG. */
  snapshot(): Buffer;
}

export interface ConfigSource {
  /** The config in force, as plain data. */
  show(): unknown;
  /** The file it came from, when there is one. */
  path?: string;
}

/** How to open a shell on board n: the program and arguments the console runs in a pseudo-terminal. */
export interface AttachCommand {
  argv: string[];
  env?: Record<string, string>;
  /** One line the console prints first, e.g. that the simulator opens a local shell instead. */
  note?: string;
}

export interface ControlSources {
  disks?(): DiskJson[];
  rewards?(): RewardsJson;
  panel?: PanelControl;
  config?: ConfigSource;
  attach?(board: number): AttachCommand;
}

/** The attach command of a real box: ssh as root to the board's address on the box's own network. */
export function sshAttach(address: (board: number) => string): (board: number) => AttachCommand {
  return (board) => ({
    argv: ['ssh', '-o', 'ConnectTimeout=5', `root@${address(board)}`],
    note: `ssh to board ${board} at ${address(board)}`,
  });
}
