import { z } from 'zod';

const port = z.int().min(1).max(65535);
const ipv4 = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'expected an IPv4 address such as 192.168.0.2');

const dayRange = z
  .string()
  .regex(
    /^$|^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/,
    'expected local hours as HH:MM-HH:MM, such as 23:00-07:00, or "" for none',
  );

const line = z.strictObject({
  chip: z.string().min(1),
  offset: z.int().min(0).max(1023).optional(),
  name: z.string().min(1).optional(),
  active_low: z.boolean().default(false),
});

/** The whole device config. Every key is optional in the file; defaults are the shipped box's wiring. */
export const configSchema = z.strictObject({
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
    })
    .prefault({}),
  supervisor: z
    .strictObject({
      heartbeat_interval_ms: z.int().min(100).max(60_000).default(1000),
      heartbeat_timeout_ms: z.int().min(500).max(600_000).default(2500),
      boot_timeout_s: z.int().min(5).max(3600).default(120),
      power_on_gap_ms: z.int().min(0).max(60_000).default(1000),
      state_dir: z.string().min(1).default('/var/lib/skyminer'),
      watchdog: z.string().min(1).default('/dev/watchdog'),
      watchdog_timeout_s: z.int().min(1).max(600).default(15),
    })
    .prefault({}),
  agent: z
    .strictObject({
      watchdog: z.string().min(1).default('/dev/watchdog'),
      watchdog_timeout_s: z.int().min(1).max(600).default(15),
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
  gpio: z
    .strictObject({
      backend: z.enum(['chardev', 'sysfs']).default('chardev'),
      /** Power and reset line per board, in board order starting at board 2 (the manager has none). */
      boards: z.array(z.strictObject({ power: line, reset: line })).default([]),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
