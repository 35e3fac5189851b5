import { spawnRunner, type CommandRunner } from './command-runner.js';

/**
 * Runs `smartctl -a -j -n standby` and turns its JSON (smartmontools 7+) into the few figures a health verdict needs.
 * Every field is read defensively: smartctl output differs by transport, version and bridge, and a missing field
 * must read as "not reported", never as a crash.
 */

export type SmartProtocol = 'ATA' | 'NVMe' | 'SCSI' | 'unknown';

export interface AtaAttribute {
  id: number;
  name: string;
  value: number;
  worst: number;
  thresh: number;
  /** The count: raw.value, or the leading number of raw.string when smartctl decoded packed vendor fields. */
  raw: number;
  whenFailed: '' | 'now' | 'past';
  prefailure: boolean;
}

export interface NvmeHealth {
  criticalWarning: number;
  availableSpare?: number;
  availableSpareThreshold?: number;
  percentageUsed?: number;
  mediaErrors?: number;
}

export interface ScsiHealth {
  grownDefects?: number;
  uncorrectedErrors?: number;
}

export interface SmartReading {
  device: string;
  /** Why no report could be had at all (smartctl missing, timed out, printed no JSON). */
  error?: string;
  /** smartctl's exit status bit mask (from the JSON when present, else the process's). */
  exitStatus: number | null;
  messages: string[];
  /** smartctl skipped the disk because it was spun down (`-n standby`). */
  standby: boolean;
  protocol: SmartProtocol;
  model?: string;
  serial?: string;
  capacityBytes?: number;
  /** smart_status.passed; undefined when the report has no overall status. */
  smartPassed?: boolean;
  temperatureC?: number;
  /** The drive's own highest operating or trip temperature, when it reports one. */
  temperatureLimitC?: number;
  powerOnHours?: number;
  ataAttributes?: AtaAttribute[];
  ataErrorLogCount?: number;
  nvme?: NvmeHealth;
  scsi?: ScsiHealth;
}

export const SMARTCTL_ARGS = (device: string): string[] => ['-a', '-j', '-n', 'standby', device];

const STANDBY_TEXT = /Device is in (STANDBY|SLEEP|IDLE\S*) mode/i;

export interface SmartctlOptions {
  runner?: CommandRunner;
  /** The executable; the simulator passes a stand-in that prints a recorded JSON file. */
  command?: string;
  timeoutMs?: number;
}

/** Reads one disk's SMART data; never rejects. */
export async function readSmart(device: string, opts: SmartctlOptions = {}): Promise<SmartReading> {
  const runner = opts.runner ?? spawnRunner;
  const command = opts.command ?? 'smartctl';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const res = await runner(command, SMARTCTL_ARGS(device), { timeoutMs });
  if (res.errorCode === 'ENOENT') return failed(device, `${command} is not installed`);
  if (res.errorCode === 'ETIMEDOUT')
    return failed(device, `${command} timed out after ${timeoutMs / 1000} s`);
  if (res.errorCode && !res.stdout)
    return failed(device, `${command} could not run: ${res.errorMessage ?? res.errorCode}`);
  return parseSmartctl(res.stdout, device, res.exitCode);
}

function failed(device: string, error: string): SmartReading {
  return { device, error, exitStatus: null, messages: [], standby: false, protocol: 'unknown' };
}

/** Parses `smartctl -j` output. `exitCode` is the process's, used when the JSON lacks `smartctl.exit_status`. */
export function parseSmartctl(stdout: string, device: string, exitCode: number | null = null): SmartReading {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    // smartctl older than 7 ignores -j; a stand-in may print plain text. The standby line still means asleep.
    if (STANDBY_TEXT.test(stdout)) {
      return {
        device,
        exitStatus: exitCode,
        messages: [STANDBY_TEXT.exec(stdout)![0]],
        standby: true,
        protocol: 'unknown',
      };
    }
    const first = stdout.trim().split('\n')[0]?.slice(0, 80) ?? '';
    return {
      ...failed(device, first ? `smartctl printed no JSON: "${first}"` : 'smartctl printed nothing'),
      exitStatus: exitCode,
    };
  }
  const j = obj(doc);
  if (!j) return { ...failed(device, 'smartctl JSON is not an object'), exitStatus: exitCode };
  const ctl = obj(j.smartctl);
  const messages = arr(ctl?.messages)
    .map((m) => str(obj(m)?.string))
    .filter((s): s is string => s !== undefined);
  const exitStatus = int(ctl?.exit_status) ?? exitCode;
  const dev = obj(j.device);
  const protocol = str(dev?.protocol);
  const reading: SmartReading = {
    device: str(dev?.name) ?? device,
    exitStatus,
    messages,
    standby: messages.some((m) => STANDBY_TEXT.test(m)),
    protocol: protocol === 'ATA' || protocol === 'NVMe' || protocol === 'SCSI' ? protocol : 'unknown',
  };
  const set = <K extends keyof SmartReading>(key: K, value: SmartReading[K] | undefined): void => {
    if (value !== undefined) reading[key] = value;
  };
  set('model', str(j.model_name)?.trim() ?? join(str(j.vendor), str(j.product)));
  set('serial', str(j.serial_number)?.trim());
  set('capacityBytes', int(obj(j.user_capacity)?.bytes) ?? int(j.nvme_total_capacity));
  set('smartPassed', bool(obj(j.smart_status)?.passed));
  set('powerOnHours', int(obj(j.power_on_time)?.hours));
  const temp = obj(j.temperature);
  // 0 °C is what RAID volumes and some bridges report for "no sensor".
  const current = int(temp?.current);
  set('temperatureC', current !== undefined && current > 0 ? current : undefined);
  const limit = [temp?.op_limit_max, temp?.limit_max, temp?.drive_trip]
    .map(int)
    .find((v) => v !== undefined && v > 0);
  set('temperatureLimitC', limit);
  const table = arr(obj(j.ata_smart_attributes)?.table);
  if (table.length > 0)
    set(
      'ataAttributes',
      table.map(ataAttribute).filter((a): a is AtaAttribute => a !== null),
    );
  const errLog = obj(j.ata_smart_error_log);
  set('ataErrorLogCount', int(obj(errLog?.extended)?.count) ?? int(obj(errLog?.summary)?.count));
  const nv = obj(j.nvme_smart_health_information_log);
  if (nv) {
    reading.nvme = {
      criticalWarning: int(nv.critical_warning) ?? 0,
      ...defined({
        availableSpare: int(nv.available_spare),
        availableSpareThreshold: int(nv.available_spare_threshold),
        percentageUsed: int(nv.percentage_used),
        mediaErrors: int(nv.media_errors),
      }),
    };
    if (reading.temperatureC === undefined) set('temperatureC', positive(int(nv.temperature)));
  }
  const grown = int(j.scsi_grown_defect_list);
  const errs = obj(j.scsi_error_counter_log);
  if (grown !== undefined || errs) {
    const uncorrected = ['read', 'write', 'verify']
      .map((k) => int(obj(errs?.[k])?.total_uncorrected_errors))
      .filter((v): v is number => v !== undefined);
    reading.scsi = defined({
      grownDefects: grown,
      uncorrectedErrors: uncorrected.length > 0 ? uncorrected.reduce((a, b) => a + b, 0) : undefined,
    });
  }
  if (reading.temperatureC === undefined && reading.ataAttributes) {
    const t =
      reading.ataAttributes.find((a) => a.id === 194) ?? reading.ataAttributes.find((a) => a.id === 190);
    set('temperatureC', positive(t?.raw));
  }
  return reading;
}

function ataAttribute(entry: unknown): AtaAttribute | null {
  const a = obj(entry);
  const id = int(a?.id);
  if (!a || id === undefined) return null;
  const raw = obj(a.raw);
  const rawString = (str(raw?.string) ?? '').trim();
  // "2111 (12437 0)" or "32 (Min/Max 24/38)": raw.value packs several fields, the leading number is the count.
  const lead = /^\d+$/.test(rawString) ? null : /^(\d+)/.exec(rawString);
  const when = str(a.when_failed);
  return {
    id,
    name: str(a.name) ?? `Attribute_${id}`,
    value: int(a.value) ?? 0,
    worst: int(a.worst) ?? 0,
    thresh: int(a.thresh) ?? 0,
    raw: lead ? Number(lead[1]) : (int(raw?.value) ?? 0),
    whenFailed: when === 'now' || when === 'past' ? when : '',
    prefailure: bool(obj(a.flags)?.prefailure) ?? false,
  };
}

export interface ScannedDevice {
  name: string;
  type: string;
  protocol: string;
}

/** Parses `smartctl --scan -j`. */
export function parseSmartctlScan(stdout: string): ScannedDevice[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error('smartctl --scan printed no JSON');
  }
  return arr(obj(doc)?.devices)
    .map(obj)
    .filter((d): d is Record<string, unknown> => d !== undefined && str(d.name) !== undefined)
    .map((d) => ({ name: str(d.name)!, type: str(d.type) ?? '', protocol: str(d.protocol) ?? '' }));
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
function positive(v: number | undefined): number | undefined {
  return v !== undefined && v > 0 ? v : undefined;
}
function join(a: string | undefined, b: string | undefined): string | undefined {
  return a || b ? [a, b].filter(Boolean).join(' ') : undefined;
}
/** Drops undefined fields, so optional properties are absent rather than present-and-undefined. */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
