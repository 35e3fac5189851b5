import { z } from 'zod';
import { parseUtcDate } from './utc-date.js';

const port = z.int().min(1).max(65535);
const ipv4 = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'expected an IPv4 address such as 192.168.0.2')
  .refine((a) => a.split('.').every((o) => Number(o) <= 255), 'expected an IPv4 address: each part 0 to 255');

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
const dayRange = z
  .string()
  .regex(
    /^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/,
    'expected local hours as HH:MM-HH:MM, such as 23:00-07:00, or "" for none',
  );

const line = z
  .strictObject({
    chip: z.string().min(1),
    offset: z.int().min(0).max(1023).optional(),
    name: z.string().min(1).optional(),
    active_low: z.boolean().default(false),
  })
  .refine((l) => l.offset !== undefined || l.name !== undefined, 'expected the line by offset or by name');

/** The whole device config. Every key is optional in the file; defaults are the shipped box's wiring. */
export const configSchema = z
  .strictObject({
    box: z
      .strictObject({
        boards: z
          .int()
          .min(4)
          .max(64)
          .refine((n) => n % 4 === 0, 'expected a multiple of 4 (boards come in groups of 4)')
          .default(8),
        /** Board numbers start at 1; board 1 is the manager. */
        slot: z.int().min(1).max(64).optional(),
      })
      .prefault({}),
    network: z
      .strictObject({
        manager_address: ipv4.default('192.168.0.2'),
        /** Board n listens at first_board_address + (n - 1). */
        first_board_address: ipv4.default('192.168.0.2'),
        heartbeat_port: port.default(7700),
        agent_port: port.default(7701),
        /** Where the manager serves an update bundle to the boards while a box-wide update runs (TCP). */
        update_port: port.default(7702),
      })
      .prefault({}),
    supervisor: z
      .strictObject({
        heartbeat_interval_ms: z.int().min(100).max(60_000).default(1000),
        /** Silence longer than this makes a board suspect (and probed); not yet failed. */
        heartbeat_timeout_ms: z.int().min(200).max(600_000).default(1500),
        /** While a board installs an update into its spare slot (minutes of writing, hashing and unpacking) or
         * commits its trial boot, its heartbeats may lag: silence up to this long is not yet suspect, so the
         * update is not cut short. */
        install_silence_s: z.int().min(0).max(3600).default(60),
        /** A suspect board is failed once its probes go unanswered this long; they are resent every interval. */
        probe_timeout_ms: z.int().min(50).max(60_000).default(1200),
        probe_interval_ms: z.int().min(20).max(10_000).default(200),
        boot_timeout_s: z.int().min(1).max(3600).default(120),
        power_on_gap_ms: z.int().min(0).max(60_000).default(1000),
        /** Escalation: soft reboot (waits this long for the agent's acknowledgement), reset pulse, power cycle. */
        soft_reboot_ack_ms: z.int().min(50).max(60_000).default(1000),
        reset_pulse_ms: z.int().min(10).max(10_000).default(200),
        power_off_ms: z.int().min(100).max(120_000).default(5000),
        /** At most restart_cap restarts within restart_window_s; one more failure quarantines the board. */
        restart_cap: z.int().min(0).max(100).default(3),
        restart_window_s: z
          .int()
          .min(1)
          .max(7 * 24 * 3600)
          .default(3600),
        /** Up this long without a break clears a board's restart count. */
        stable_uptime_s: z
          .int()
          .min(1)
          .max(7 * 24 * 3600)
          .default(600),
        /** A quarantined board is switched off, or left as it is. */
        quarantine: z.enum(['off', 'leave']).default('off'),
        /** After many boards fell silent together (the network's fault), restarts stay held this long once they
         * are heard again, for the last switch ports to come up. */
        network_settle_ms: z.int().min(0).max(600_000).default(10_000),
        tick_ms: z.int().min(10).max(1000).default(50),
        /** Heartbeats stamped further than this from the manager's clock are refused. */
        replay_window_s: z.int().min(1).max(3600).default(30),
        state_dir: z.string().min(1).default('/var/lib/skyminer'),
        event_log_max_bytes: z
          .int()
          .min(4096)
          .max(1 << 30)
          .default(1 << 20),
        event_log_keep: z.int().min(1).max(100).default(3),
        watchdog: z.string().min(1).default('/dev/watchdog'),
        watchdog_timeout_s: z.int().min(1).max(600).default(15),
      })
      .refine((s) => s.heartbeat_timeout_ms > s.heartbeat_interval_ms, {
        message: 'heartbeat_timeout_ms must be longer than heartbeat_interval_ms',
        path: ['heartbeat_timeout_ms'],
      })
      .prefault({}),
    agent: z
      .strictObject({
        /** The board's watchdog device; empty for none (a machine that is not a board, such as a test host). */
        watchdog: z.string().default('/dev/watchdog'),
        watchdog_timeout_s: z.int().min(1).max(600).default(15),
        /** Health: the agent stops petting its watchdog while any check fails. */
        event_loop_lag_ms: z.int().min(10).max(60_000).default(1000),
        min_free_memory_mb: z.int().min(0).max(65_536).default(32),
        min_root_free_percent: z.number().min(0).max(100).default(5),
        /** A check that takes longer counts as failing; absent: half the heartbeat interval. */
        check_timeout_ms: z.int().min(50).max(60_000).optional(),
        /** Check and mount the healthiest SATA disk as the content cache; false only reports the disks. */
        cache_disk: z.boolean().default(true),
        /** SMART is read this often per disk; with -n standby, a sleeping disk is not woken. */
        smart_period_s: z
          .int()
          .min(1)
          .max(7 * 86_400)
          .default(1800),
      })
      .prefault({}),
    auth: z
      .strictObject({
        /** The box secret the image bakes in; the manager keeps it, workers erase it after enrolling. */
        box_secret: z.string().min(1).default('/etc/skyminer/box.key'),
        /** This board's own key, derived from the box secret at first boot. */
        board_key: z.string().min(1).default('/etc/skyminer/board.key'),
        /** Where the manager keeps the ssh key `attach` uses (derived from the box secret); empty: none. */
        attach_key: z.string().default(''),
        /** The authorized_keys a board adds the manager's attach key to when it enrols; empty: none. */
        authorized_keys: z.string().default(''),
        /**
         * Zero-touch enrolment: after the manager switches a board on, a board with no key and no box secret may
         * claim its key for this long (held to half the boot timeout); 0 turns joining off (box secret only).
         */
        join_window_s: z.int().min(0).max(1800).default(60),
      })
      .prefault({}),
    panel: z
      .strictObject({
        enabled: z.boolean().default(true),
        i2c_bus: z.int().min(0).max(255).default(0),
        address: z.int().min(0x03).max(0x77).default(0x3c),
        height: z.union([z.literal(64), z.literal(32)]).default(64),
        page_period_s: z.int().min(1).max(3600).default(8),
        /** How often the page is redrawn; the driver sends only what changed. */
        refresh_ms: z.int().min(100).max(60_000).default(1000),
        contrast: z.int().min(0).max(255).default(207),
        dim_contrast: z.int().min(0).max(255).default(16),
        /** Dim after this long without a console key or a new alert; 0 never. */
        dim_after_idle_s: z
          .int()
          .min(0)
          .max(7 * 86_400)
          .default(900),
        /** Local hours when the panel is dimmed, `HH:MM-HH:MM` (may run past midnight), or "" for none. */
        night_hours: dayRange.default('23:00-07:00'),
        /** Local hours when the panel is dark unless an alert is up, or "" for none. */
        blank_hours: dayRange.default(''),
        /** Largest sideways shift of the whole picture against burn-in; up and down it moves 1 pixel at most. */
        shift_px: z.int().min(0).max(2).default(2),
        shift_period_s: z.int().min(10).max(86_400).default(180),
        /** Page sections swap places this often, so that titles and outlines do not sit on the same pixels. */
        layout_period_s: z.int().min(60).max(86_400).default(1800),
        /** A transfer with no answer after this long counts as failed. */
        transfer_timeout_ms: z.int().min(10).max(10_000).default(250),
        /** Configuration and a full frame are re-sent this often, for a panel that lost power unseen; 0 never. */
        resync_s: z.int().min(0).max(86_400).default(300),
      })
      .prefault({}),
    /** Where the Skywire hypervisor and a Skycoin node answer, and how the rewards figures are read. */
    skywire: z
      .strictObject({
        /** The hypervisor on the manager; credentials may also ride in the URL (http://user:pass@host:port). */
        hypervisor_url: httpUrl.default('http://192.168.0.2:8000'),
        username: z.string().min(1).default('admin'),
        /** Empty: the password the manager made with the hypervisor's account (<state_dir>/skywire/hypervisor-password). */
        password: z.string().default(''),
        /** A Skycoin node's REST API (the reward address balance). */
        skycoin_url: httpUrl.default('http://127.0.0.1:6420'),
        request_timeout_ms: z.int().min(100).max(60_000).default(5000),
        /** Each board's visor local_ip, in board order from board 1; empty: network.first_board_address + (n - 1). */
        board_addresses: z.array(ipv4).default([]),
      })
      .prefault({}),
    rewards: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Lowest visor version that earns rewards (the network raises it about 14 days after each release). */
        min_version: z
          .string()
          .regex(/^v?\d+\.\d+\.\d+$/, 'expected a version such as v1.3.26')
          .default('v1.3.26'),
        /** The UTC day min_version applies from, YYYY-MM-DD; "" (default): in force already. Until that day a
         * visor below it still earns, and `rewards` says it must move. */
        min_version_from: z
          .string()
          .refine(
            (d) => d === '' || parseUtcDate(d) !== null,
            'expected a date such as 2026-05-22 (YYYY-MM-DD, a day that exists), or "" for in force already',
          )
          .default(''),
        uptime_threshold_pct: z.number().gt(0).max(100).default(75),
        /** The yearly pool shared daily among the eligible shares of the whole network. */
        pool_sky_per_year: z.number().min(0).default(408_000),
        /** Eligible shares in the whole network (the pool's divisor) when no payout has been seen yet. */
        network_shares: z.int().min(1).default(5000),
        /** A known daily payout per share; overrides the pool figures until payouts are seen. */
        sky_per_share_day: z.number().min(0).optional(),
        max_shares_per_ip: z.int().min(1).max(64).default(8),
        summary_poll_s: z.int().min(1).max(3600).default(60),
        balance_poll_s: z.int().min(1).max(86_400).default(900),
        /** Figures older than this are shown stale, with their age. */
        stale_after_s: z.int().min(1).max(86_400).default(300),
        /** Payout and daily uptime history; default <supervisor.state_dir>/rewards-ledger.json. */
        ledger_path: z.string().min(1).optional(),
      })
      .prefault({}),
    gpio: z
      .strictObject({
        backend: z.enum(['chardev', 'sysfs']).default('chardev'),
        /** Power and reset line per board, in board order starting at board 2 (the manager has none). */
        boards: z.array(z.strictObject({ power: line, reset: line })).default([]),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    const boards = c.box.boards;
    if (c.gpio.boards.length > boards - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['gpio', 'boards'],
        message: `${c.gpio.boards.length} entries for a ${boards}-board box: at most ${boards - 1} (board 1, the manager, has no lines)`,
      });
    const last = Number(c.network.first_board_address.split('.')[3]) + boards - 1;
    if (last > 254)
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'first_board_address'],
        message: `board ${boards} would be at .${last}: the boards' addresses must end at .254 at most`,
      });
  });

export type Config = z.infer<typeof configSchema>;
