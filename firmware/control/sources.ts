/**
 * Optional data sources the control server serves beside the supervisor itself. Each belongs to another part
 * (disks, rewards, panel, config); when one is absent the matching command says that its data is not available.
 * The JSON shapes are those the parts themselves print, so `skyminer disks --json` reads the same everywhere.
 */
import type { DiskReport } from '../disks/disk-report.js';
import type { RewardsJson } from '../rewards/output.js';
import type { SkywireJson } from '../rewards/skywire-output.js';
import type { HypervisorPasswordControl } from '../skywire/hypervisor-account.js';

export type { BoardRewardsJson, BoxRewardsJson, RewardsJson } from '../rewards/output.js';
export type { SkywireJson, VisorJson } from '../rewards/skywire-output.js';
/** One disk as `skyminer disks --json` prints it. */
export type DiskJson = DiskReport;

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

/** A box-wide update as the console drives it (firmware/supervisor/rollout-loop.ts). */
export interface UpdateControl {
  start(source: string, by: string): Promise<{ ok: boolean; message: string }>;
  stop(by: string): Promise<{ ok: boolean; message: string }>;
  /** The current or last rollout: its lines as `update status` prints them, and the data. */
  status(): { lines: string[]; rollout: unknown } | null;
}

export interface ControlSources {
  disks?(): DiskJson[];
  rewards?(): RewardsJson;
  /** Chooses the box's reward address (already checked) and resolves once the visors were read back. */
  setRewardAddress?(address: string): Promise<RewardsJson>;
  skywire?(): SkywireJson;
  /** The hypervisor UI's password, where the manager keeps it. */
  hypervisorPassword?: HypervisorPasswordControl;
  panel?: PanelControl;
  config?: ConfigSource;
  attach?(board: number): AttachCommand;
  update?: UpdateControl;
}

export interface SshAttachOptions {
  /** The manager's attach key (auth.attach_key), which every board trusts from its enrolment. */
  identity?: string;
  /** The boards' host keys, learned on first contact: they are made on the boards, not known in advance. */
  knownHosts?: string;
}

/** The attach command of a real box: ssh as root to the board's address on the box's own network. */
export function sshAttach(
  address: (board: number) => string,
  options: SshAttachOptions = {},
): (board: number) => AttachCommand {
  const identity = options.identity ? ['-i', options.identity, '-o', 'IdentitiesOnly=yes'] : [];
  const hosts = options.knownHosts
    ? ['-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${options.knownHosts}`]
    : [];
  return (board) => ({
    argv: ['ssh', '-o', 'ConnectTimeout=5', ...identity, ...hosts, `root@${address(board)}`],
    note: `ssh to board ${board} at ${address(board)}`,
  });
}
