import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../../drivers/disks/command-runner.js';
import { parseSmartctl, readSmart, type SmartReading } from '../../../drivers/disks/smartctl.js';
import {
  DEFAULT_SMART_LIMITS,
  smartVerdict,
  type VerdictMemory,
} from '../../../firmware/disks/smart-verdict.js';

/** A smartctl -j report for an ATA disk, built from the parts a case needs. */
function ata(opts: {
  exit?: number;
  passed?: boolean;
  temp?: number;
  attrs?: [
    id: number,
    raw: number,
    value?: number,
    thresh?: number,
    prefail?: boolean,
    whenFailed?: string,
  ][];
  messages?: string[];
}): string {
  return JSON.stringify({
    smartctl: { exit_status: opts.exit ?? 0, messages: (opts.messages ?? []).map((string) => ({ string })) },
    device: { name: '/dev/sda', protocol: 'ATA' },
    model_name: 'WDC WD10JPVX-22JC3T0',
    serial_number: 'WD-WX61A76JHRT4',
    ...(opts.passed === undefined ? {} : { smart_status: { passed: opts.passed } }),
    ...(opts.temp === undefined ? {} : { temperature: { current: opts.temp } }),
    ata_smart_attributes: {
      table: (opts.attrs ?? [[5, 0]]).map(
        ([id, raw, value = 100, thresh = 0, prefail = false, when = '']) => ({
          id,
          name: `Attr_${id}`,
          value,
          worst: value,
          thresh,
          when_failed: when,
          flags: { prefailure: prefail },
          raw: { value: raw, string: String(raw) },
        }),
      ),
    },
  });
}

const verdictOf = (json: string, prev: VerdictMemory | null = null, limits = DEFAULT_SMART_LIMITS) =>
  smartVerdict(parseSmartctl(json, '/dev/sda'), prev, limits);

const STANDBY = JSON.stringify({
  smartctl: {
    argv: ['smartctl', '-a', '-j', '-n', 'standby', '/dev/sda'],
    messages: [{ string: 'Device is in STANDBY mode, exit(2)', severity: 'information' }],
    exit_status: 2,
  },
  device: { name: '/dev/sda', info_name: '/dev/sda [SAT]', type: 'sat', protocol: 'ATA' },
});

describe('SMART verdicts', () => {
  it('calls a clean, passing disk ok with no reasons', () => {
    expect(verdictOf(ata({ passed: true, temp: 35 }))).toMatchObject({
      verdict: 'ok',
      reasons: [],
      temperatureC: 35,
    });
  });

  it('keeps the previous verdict of a disk in standby and marks it asleep, not unknown', () => {
    const awake = verdictOf(ata({ passed: true, temp: 41, attrs: [[5, 3]] }));
    const asleep = verdictOf(STANDBY, awake);
    expect(asleep).toEqual({ ...awake, asleep: true });
    expect(asleep.verdict).toBe('warning');
  });

  it('says unknown for a disk asleep since start, without waking it', () => {
    expect(verdictOf(STANDBY)).toMatchObject({
      verdict: 'unknown',
      asleep: true,
      reasons: ['asleep; not woken to read SMART'],
    });
  });

  it('recognises standby from plain text too (a smartctl that ignored -j)', () => {
    const r = parseSmartctl('smartctl 6.6\nDevice is in STANDBY mode, exit(2)\n', '/dev/sda', 2);
    expect(r.standby).toBe(true);
  });

  it.each([
    [1, 'unknown', 'smartctl rejected its command line'],
    [16, 'failing', 'a pre-failure attribute is at or below its threshold'],
    [32, 'warning', 'an attribute was at or below its threshold in the past'],
    [64, 'warning', 'errors in the device error log'],
    [128, 'warning', 'the self-test log reports a failed test'],
    [8, 'failing', 'SMART overall-health self-assessment FAILED'],
  ])('reads exit-status bit mask %i as %s', (exit, verdict, reason) => {
    const v = verdictOf(ata({ exit, passed: exit !== 8 }));
    expect(v.verdict).toBe(verdict);
    expect(v.reasons).toContain(reason);
  });

  it('fails a disk whose pre-failure attribute is below threshold now, warns for an old-age one', () => {
    expect(verdictOf(ata({ passed: true, attrs: [[5, 2000, 3, 5, true, 'now']] })).verdict).toBe('failing');
    expect(verdictOf(ata({ passed: true, attrs: [[190, 70, 40, 45, false]] })).reasons).toContain(
      'old-age attribute at or below threshold: Attr_190 (190)',
    );
  });

  it('warns when reallocated sectors grow a little, fails when they grow fast', () => {
    const before = verdictOf(ata({ passed: true, attrs: [[5, 8]] }));
    const little = verdictOf(ata({ passed: true, attrs: [[5, 10]] }), before);
    expect(little.verdict).toBe('warning');
    expect(little.reasons).toContain('growing since last poll: +2 reallocated sectors');
    const fast = verdictOf(
      ata({
        passed: true,
        attrs: [
          [5, 10],
          [197, 8],
        ],
      }),
      { ...before, counters: { ata5: 8, ata197: 0 } },
    );
    expect(fast.verdict).toBe('failing');
    expect(fast.reasons).toContain(
      'media degrading fast since last poll: +2 reallocated sectors, +8 sectors pending reallocation (unreadable)',
    );
  });

  it('never fails a disk for CRC errors alone, even growing ones: that is the cable', () => {
    const before = verdictOf(ata({ passed: true, attrs: [[199, 5]] }));
    const after = verdictOf(ata({ passed: true, attrs: [[199, 500]] }), before);
    expect(after.verdict).toBe('warning');
    expect(after.reasons).toContain(
      'growing since last poll: +495 interface CRC errors (cable or connector)',
    );
  });

  it('applies configurable temperature limits and the drive’s own lower limit', () => {
    const limits = { ...DEFAULT_SMART_LIMITS, tempWarnC: 45, tempFailC: 60 };
    expect(verdictOf(ata({ passed: true, temp: 50 }), null, limits).verdict).toBe('warning');
    expect(verdictOf(ata({ passed: true, temp: 61 }), null, limits).reasons).toEqual([
      'temperature 61 °C at or above the 60 °C limit',
    ]);
    const ownLimit = JSON.parse(ata({ passed: true })) as Record<string, unknown>;
    ownLimit.temperature = { current: 57, op_limit_max: 55 };
    expect(verdictOf(JSON.stringify(ownLimit)).verdict).toBe('failing');
  });

  it('judges NVMe by critical warning, spare, wear and media errors', () => {
    const nvme = (log: Record<string, number>): string =>
      JSON.stringify({
        smartctl: { exit_status: 0 },
        device: { name: '/dev/nvme0', protocol: 'NVMe' },
        smart_status: { passed: true },
        nvme_smart_health_information_log: {
          critical_warning: 0,
          available_spare: 100,
          available_spare_threshold: 10,
          percentage_used: 3,
          media_errors: 0,
          temperature: 40,
          ...log,
        },
      });
    expect(verdictOf(nvme({})).verdict).toBe('ok');
    expect(verdictOf(nvme({ critical_warning: 4 })).reasons).toContain(
      'NVMe critical warning: reliability degraded by media errors',
    );
    expect(verdictOf(nvme({ available_spare: 5 })).verdict).toBe('failing');
    expect(verdictOf(nvme({ percentage_used: 104 })).reasons).toEqual(['104% of rated endurance used']);
    const before = verdictOf(nvme({ media_errors: 1 }));
    expect(verdictOf(nvme({ media_errors: 40 }), before).verdict).toBe('failing');
    expect(verdictOf(nvme({})).temperatureC).toBe(40);
  });

  it('judges SCSI by status, grown defects and their growth', () => {
    const scsi = (grown: number, passed = true): string =>
      JSON.stringify({
        smartctl: { exit_status: passed ? 0 : 8 },
        device: { name: '/dev/sdg', protocol: 'SCSI' },
        smart_status: { passed },
        scsi_grown_defect_list: grown,
      });
    expect(verdictOf(scsi(0)).verdict).toBe('ok');
    expect(verdictOf(scsi(3)).verdict).toBe('warning');
    expect(verdictOf(scsi(40), verdictOf(scsi(3))).verdict).toBe('failing');
    expect(verdictOf(scsi(0, false)).verdict).toBe('failing');
  });

  it('keeps the last real counters across an unreadable poll, so growth is still measured', () => {
    const first = verdictOf(ata({ passed: true, attrs: [[5, 4]] }));
    const lost = smartVerdict(
      { ...parseSmartctl('', '/dev/sda'), error: 'smartctl timed out after 30 s' },
      first,
    );
    expect(lost.verdict).toBe('unknown');
    expect(lost.counters).toEqual({ ata5: 4 });
    expect(verdictOf(ata({ passed: true, attrs: [[5, 30]] }), lost).verdict).toBe('failing');
  });
});

describe('SMART memory across disks', () => {
  it('does not measure growth against another disk that had the same device name', () => {
    const other = JSON.parse(ata({ passed: true, attrs: [[5, 500]] })) as Record<string, unknown>;
    other.serial_number = 'OTHER-DISK';
    const before = verdictOf(ata({ passed: true, attrs: [[5, 0]] }));
    const after = verdictOf(JSON.stringify(other), before);
    expect(after.verdict).toBe('warning');
    expect(after.reasons).toEqual(['500 reallocated sectors']);
    expect(after.serial).toBe('OTHER-DISK');
  });
});

describe('running smartctl through an injected runner', () => {
  const runner =
    (result: Awaited<ReturnType<CommandRunner>>, seen: string[][] = []): CommandRunner =>
    (file, args) => {
      seen.push([file, ...args]);
      return Promise.resolve(result);
    };

  it('asks smartctl not to wake a sleeping disk', async () => {
    const seen: string[][] = [];
    await readSmart('/dev/sda', {
      runner: runner({ exitCode: 0, stdout: ata({ passed: true }), stderr: '' }, seen),
    });
    expect(seen).toEqual([['smartctl', '-a', '-j', '-n', 'standby', '/dev/sda']]);
  });

  it.each<[string, Awaited<ReturnType<CommandRunner>>, string]>([
    [
      'missing smartctl',
      { exitCode: null, stdout: '', stderr: '', errorCode: 'ENOENT' },
      'smartctl is not installed',
    ],
    [
      'a hung smartctl',
      { exitCode: null, stdout: '', stderr: '', errorCode: 'ETIMEDOUT' },
      'smartctl timed out after 30 s',
    ],
    [
      'malformed JSON',
      { exitCode: 0, stdout: '{"smartctl": {', stderr: '' },
      'smartctl printed no JSON: "{"smartctl": {"',
    ],
    ['no output', { exitCode: 2, stdout: '', stderr: '' }, 'smartctl printed nothing'],
    ['a JSON array', { exitCode: 0, stdout: '[1,2]', stderr: '' }, 'smartctl JSON is not an object'],
  ])('gives unknown with the reason for %s, never a crash', async (_, result, reason) => {
    const reading: SmartReading = await readSmart('/dev/sda', { runner: runner(result) });
    const v = smartVerdict(reading, null);
    expect(v.verdict).toBe('unknown');
    expect(v.reasons).toContain(reason);
  });
});
