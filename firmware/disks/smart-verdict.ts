import type { AtaAttribute, SmartReading } from '../../drivers/disks/smartctl.js';

/**
 * One disk's health verdict from one smartctl reading and what the previous poll remembered. Pure: the poller feeds
 * it readings and keeps the returned memory for the next call.
 *
 * failing  = stop trusting the disk now (overall status FAILED, an attribute past its threshold, media going bad
 *            fast, NVMe critical warning or spare below threshold, temperature at the drive's limit)
 * warning  = works, but a person should look (reallocated/pending/uncorrectable sectors, CRC errors, logged
 *            errors, grown defects, warm)
 * unknown  = no health data (cannot open, smartctl missing, RAID volume, asleep before the first reading)
 */

export type Verdict = 'ok' | 'warning' | 'failing' | 'unknown';

export interface SmartLimits {
  tempWarnC: number;
  /** Failing at this or the drive's own reported limit, whichever is lower. */
  tempFailC: number;
  /** Reallocated + pending + offline-uncorrectable sectors (or NVMe media errors, SCSI grown defects) gained
   * between two polls that mark the media as failing rather than merely worn. */
  growthFailCount: number;
  /** NVMe percentage_used from which to warn. */
  nvmeWearWarnPct: number;
}

export const DEFAULT_SMART_LIMITS: SmartLimits = {
  tempWarnC: 55,
  tempFailC: 65,
  growthFailCount: 10,
  nvmeWearWarnPct: 90,
};

/** What a verdict carries forward to the next poll. */
export interface VerdictMemory {
  verdict: Verdict;
  reasons: string[];
  temperatureC: number | null;
  /** Critical counters at the last reading that had them, keyed `ata5`, `ata197`, `nvmeMedia`, `scsiGrown`, ... */
  counters: Record<string, number>;
  /** The serial the counters belong to; a report with another serial is another disk and starts afresh. */
  serial?: string;
}

export interface SmartVerdict extends VerdictMemory {
  /** The disk was in standby and was left asleep; verdict and temperature are from the last awake reading. */
  asleep: boolean;
}

type Level = 'info' | 'warning' | 'failing' | 'unknown';
interface Finding {
  level: Level;
  text: string;
}

const EXIT = {
  cmdline: 1,
  open: 2,
  command: 4,
  failing: 8,
  prefailNow: 16,
  thresholdPast: 32,
  errorLog: 64,
  selfTest: 128,
} as const;

/** Critical ATA attributes, in the order they are reported. */
const ATA_CRITICAL: Record<number, { key: string; what: string; media: boolean }> = {
  5: { key: 'ata5', what: 'reallocated sectors', media: true },
  197: { key: 'ata197', what: 'sectors pending reallocation (unreadable)', media: true },
  198: { key: 'ata198', what: 'offline-uncorrectable sectors', media: true },
  187: { key: 'ata187', what: 'reported uncorrectable errors', media: false },
  188: { key: 'ata188', what: 'command timeouts', media: false },
  199: { key: 'ata199', what: 'interface CRC errors (cable or connector)', media: false },
};

export function smartVerdict(
  r: SmartReading,
  remembered: VerdictMemory | null,
  limits: SmartLimits = DEFAULT_SMART_LIMITS,
): SmartVerdict {
  const sameDisk = !remembered?.serial || !r.serial || remembered.serial === r.serial;
  const prev = sameDisk ? remembered : null;
  if (r.standby) {
    // Reading SMART would spin the disk up: keep what we knew.
    if (prev) return { ...prev, asleep: true };
    return {
      verdict: 'unknown',
      reasons: ['asleep; not woken to read SMART'],
      temperatureC: null,
      counters: {},
      asleep: true,
    };
  }
  const found: Finding[] = [];
  const add = (level: Level, text: string): void => void found.push({ level, text });
  const counters: Record<string, number> = {};
  const exit = r.exitStatus ?? 0;

  if (r.error) add('unknown', r.error);
  if (exit & EXIT.cmdline) add('unknown', 'smartctl rejected its command line');
  if (exit & EXIT.open) add('unknown', `smartctl could not open the device${firstMessage(r)}`);
  if (exit & EXIT.command) add('info', 'some SMART commands failed; the report may be incomplete');

  if (r.smartPassed === false || exit & EXIT.failing)
    add('failing', 'SMART overall-health self-assessment FAILED');
  if (r.smartPassed === undefined && hasHealthData(r))
    add('info', 'no overall-health status reported; judged from the details');

  const attrs = r.ataAttributes ?? [];
  const now = attrs.filter((a) => a.whenFailed === 'now' || (a.thresh > 0 && a.value <= a.thresh));
  const nowPrefail = now.filter((a) => a.prefailure);
  const nowOldAge = now.filter((a) => !a.prefailure);
  if (nowPrefail.length > 0)
    add('failing', `pre-failure attribute at or below threshold: ${names(nowPrefail)}`);
  else if (exit & EXIT.prefailNow) add('failing', 'a pre-failure attribute is at or below its threshold');
  if (nowOldAge.length > 0) add('warning', `old-age attribute at or below threshold: ${names(nowOldAge)}`);
  const past = attrs.filter((a) => a.whenFailed === 'past');
  if (past.length > 0) add('warning', `attribute was at or below threshold in the past: ${names(past)}`);
  else if (exit & EXIT.thresholdPast)
    add('warning', 'an attribute was at or below its threshold in the past');

  let mediaGrowth = 0;
  const growth: string[] = [];
  for (const [id, c] of Object.entries(ATA_CRITICAL)) {
    const a = attrs.find((x) => x.id === Number(id));
    if (!a) continue;
    counters[c.key] = a.raw;
    if (a.raw > 0) add('warning', `${a.raw} ${c.what}`);
    const before = prev?.counters[c.key];
    if (before !== undefined && a.raw > before) {
      if (c.media) mediaGrowth += a.raw - before;
      growth.push(`+${a.raw - before} ${c.what}`);
    }
  }

  if (r.ataErrorLogCount !== undefined && r.ataErrorLogCount > 0)
    add('warning', `${r.ataErrorLogCount} errors in the device error log`);
  else if (exit & EXIT.errorLog) add('warning', 'errors in the device error log');
  if (exit & EXIT.selfTest) add('warning', 'the self-test log reports a failed test');

  const nv = r.nvme;
  if (nv) {
    const cw = nv.criticalWarning;
    if (cw & 0x01) add('failing', 'NVMe critical warning: available spare below threshold');
    if (cw & 0x02) add('warning', "NVMe critical warning: temperature beyond the controller's threshold");
    if (cw & 0x04) add('failing', 'NVMe critical warning: reliability degraded by media errors');
    if (cw & 0x08) add('failing', 'NVMe critical warning: media placed in read-only mode');
    if (cw & 0x10) add('failing', 'NVMe critical warning: volatile memory backup failed');
    if (!(cw & 0x01) && nv.availableSpare !== undefined && nv.availableSpareThreshold !== undefined) {
      if (nv.availableSpare < nv.availableSpareThreshold) {
        add(
          'failing',
          `available spare ${nv.availableSpare}% below threshold ${nv.availableSpareThreshold}%`,
        );
      }
    }
    if (nv.percentageUsed !== undefined && nv.percentageUsed >= limits.nvmeWearWarnPct) {
      add('warning', `${nv.percentageUsed}% of rated endurance used`);
    }
    if (nv.mediaErrors !== undefined) {
      counters.nvmeMedia = nv.mediaErrors;
      if (nv.mediaErrors > 0) add('warning', `${nv.mediaErrors} media and data integrity errors`);
      const before = prev?.counters.nvmeMedia;
      if (before !== undefined && nv.mediaErrors > before) {
        mediaGrowth += nv.mediaErrors - before;
        growth.push(`+${nv.mediaErrors - before} media errors`);
      }
    }
  }

  const scsi = r.scsi;
  if (scsi?.grownDefects !== undefined) {
    counters.scsiGrown = scsi.grownDefects;
    if (scsi.grownDefects > 0) add('warning', `${scsi.grownDefects} grown defects`);
    const before = prev?.counters.scsiGrown;
    if (before !== undefined && scsi.grownDefects > before) {
      mediaGrowth += scsi.grownDefects - before;
      growth.push(`+${scsi.grownDefects - before} grown defects`);
    }
  }
  if (scsi?.uncorrectedErrors !== undefined && scsi.uncorrectedErrors > 0) {
    add('warning', `${scsi.uncorrectedErrors} uncorrected read/write/verify errors`);
  }

  if (growth.length > 0) {
    const fast = mediaGrowth >= limits.growthFailCount;
    add(
      fast ? 'failing' : 'warning',
      `${fast ? 'media degrading fast' : 'growing'} since last poll: ${growth.join(', ')}`,
    );
  }

  const t = r.temperatureC ?? null;
  if (t !== null) {
    const failAt = Math.min(limits.tempFailC, r.temperatureLimitC ?? Infinity);
    if (t >= failAt) add('failing', `temperature ${t} °C at or above the ${failAt} °C limit`);
    else if (t >= limits.tempWarnC) add('warning', `temperature ${t} °C at or above ${limits.tempWarnC} °C`);
  }

  if (!r.error && !(exit & (EXIT.cmdline | EXIT.open)) && r.smartPassed === undefined && !hasHealthData(r)) {
    add(
      'unknown',
      'the report holds no SMART health data (RAID volume, bridge without pass-through, or info only)',
    );
  }

  const verdict = decide(found);
  // An unreadable disk keeps the counters it last showed, so growth is measured against real readings.
  const kept = { ...(prev?.counters ?? {}), ...counters };
  const serial = r.serial ?? prev?.serial;
  return {
    verdict,
    reasons: found.map((f) => f.text),
    temperatureC: t,
    counters: kept,
    ...(serial ? { serial } : {}),
    asleep: false,
  };
}

/** Failing beats everything: a disk that says FAILED is failing even if part of the report is missing. */
function decide(found: Finding[]): Verdict {
  if (found.some((f) => f.level === 'failing')) return 'failing';
  if (found.some((f) => f.level === 'unknown')) return 'unknown';
  if (found.some((f) => f.level === 'warning')) return 'warning';
  return 'ok';
}

function hasHealthData(r: SmartReading): boolean {
  return (r.ataAttributes?.length ?? 0) > 0 || r.nvme !== undefined || r.scsi?.grownDefects !== undefined;
}

function names(attrs: AtaAttribute[]): string {
  return attrs.map((a) => `${a.name} (${a.id})`).join(', ');
}

function firstMessage(r: SmartReading): string {
  return r.messages[0] ? `: ${r.messages[0]}` : '';
}
