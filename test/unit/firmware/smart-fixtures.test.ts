import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSmartctl, parseSmartctlScan } from '../../../drivers/disks/smartctl.js';
import { smartVerdict, type Verdict } from '../../../firmware/disks/smart-verdict.js';

const dir = fileURLToPath(new URL('../../fixtures/smartctl/', import.meta.url));
const read = (name: string): string => readFileSync(dir + name, 'utf8');

/**
 * The verdict a storage engineer gives each recorded report, with the reason that decides it. Every JSON fixture
 * must appear here or in the scan table below.
 */
const EXPECTED: Record<string, { verdict: Verdict; key: string | null; temperatureC: number | null }> = {
  // WD 14 TB, clean attributes, 32 °C.
  'smart-ata.json': { verdict: 'ok', key: null, temperatureC: 32 },
  'smart-ata-date.json': { verdict: 'ok', key: null, temperatureC: 32 },
  // The same disk later: 10 reallocated, 10 pending, 10 offline-uncorrectable sectors and 62 °C. Passed overall,
  // but unreadable sectors and heat need a person: warning (the growth case below makes it failing).
  'smart-ata-date2.json': {
    verdict: 'warning',
    key: '10 sectors pending reallocation (unreadable)',
    temperatureC: 62,
  },
  // Samsung 840 that says passed but has 108 UDMA CRC errors: the link (cable, connector) is corrupting transfers.
  'smart-ata-failed-scrutiny.json': {
    verdict: 'warning',
    key: '108 interface CRC errors (cable or connector)',
    temperatureC: 33,
  },
  // Samsung 860 EVO with 19% wear and nothing else: healthy.
  'smart-ata-full.json': { verdict: 'ok', key: null, temperatureC: 36 },
  'smart-ata2.json': { verdict: 'ok', key: null, temperatureC: 32 },
  // smartctl could not open the device: no data, no guess.
  'smart-fail.json': { verdict: 'unknown', key: 'smartctl could not open the device', temperatureC: null },
  // Hitachi behind a USB bridge: overall FAILED, Reallocated_Sector_Ct below threshold now, 1975 reallocated.
  'smart-fail2.json': {
    verdict: 'failing',
    key: 'SMART overall-health self-assessment FAILED',
    temperatureC: 25,
  },
  // Behind a MegaRAID: SMART RETURN STATUS failed (exit bit 2), status inferred from clean attributes: healthy.
  'smart-megaraid0.json': { verdict: 'ok', key: 'some SMART commands failed', temperatureC: 36 },
  // Its neighbour has remapped 387 sectors: still above the vendor threshold, but worth watching.
  'smart-megaraid1.json': { verdict: 'warning', key: '387 reallocated sectors', temperatureC: 36 },
  // Samsung 970 EVO: passed, but 7 media errors means it already returned unrecoverable data.
  'smart-nvme-failed.json': {
    verdict: 'warning',
    key: '7 media and data integrity errors',
    temperatureC: 35,
  },
  'smart-nvme.json': { verdict: 'ok', key: null, temperatureC: 36 },
  // 8382 error-log entries are host-side command errors, not a health signal; media errors are 0.
  'smart-nvme2.json': { verdict: 'ok', key: null, temperatureC: 38 },
  // `smartctl -H` only: passed, nothing else to judge.
  'smart-pass.json': { verdict: 'ok', key: null, temperatureC: null },
  // Intel RAID volume: no SMART at all behind it.
  'smart-raid.json': { verdict: 'unknown', key: 'no SMART health data', temperatureC: null },
  // Seagate without an overall status line but with clean critical attributes.
  'smart-sat.json': { verdict: 'ok', key: 'no overall-health status reported', temperatureC: 29 },
  // SAS Seagate with 56 grown defects: remapped media, still passing.
  'smart-scsi.json': { verdict: 'warning', key: '56 grown defects', temperatureC: 34 },
  'smart-scsi2.json': { verdict: 'ok', key: null, temperatureC: 31 },
  // `--info` outputs carry identity, not health.
  'smartctl_info_nvme.json': { verdict: 'unknown', key: 'no SMART health data', temperatureC: null },
  'smartctl_info_sata_smart_support_bool.json': {
    verdict: 'unknown',
    key: 'no SMART health data',
    temperatureC: null,
  },
  'smartctl_info_sata_smart_support_object.json': {
    verdict: 'unknown',
    key: 'no SMART health data',
    temperatureC: null,
  },
};

const SCANS: Record<string, string[]> = {
  'smartctl_scan_megaraid.json': ['/dev/bus/0 megaraid,0', '/dev/bus/0 megaraid,1'],
  'smartctl_scan_nvme.json': ['/dev/nvme0 nvme'],
  'smartctl_scan_simple.json': ['sda', 'sdb', 'sdc', 'sdd', 'sde', 'sdf', 'sdg'].map((d) => `/dev/${d} scsi`),
};

describe('every recorded smartctl output', () => {
  it('is covered by the expectation tables', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual([...Object.keys(EXPECTED), ...Object.keys(SCANS)].sort());
  });

  it.each(Object.entries(EXPECTED))('%s gets %o', (file, want) => {
    const v = smartVerdict(parseSmartctl(read(file), '/dev/sdx'), null);
    expect(v.verdict).toBe(want.verdict);
    if (want.key === null) expect(v.reasons.filter((r) => !r.startsWith('no overall'))).toEqual([]);
    else expect(v.reasons.some((r) => r.includes(want.key!))).toBe(true);
    expect(v.temperatureC).toBe(want.temperatureC);
    expect(v.asleep).toBe(false);
  });

  it.each(Object.entries(SCANS))('%s lists its devices', (file, want) => {
    expect(parseSmartctlScan(read(file)).map((d) => `${d.name} ${d.type}`)).toEqual(want);
  });
});

describe('details read from the recorded outputs', () => {
  it('reads identity and the decoded raw counts, not the packed raw values', () => {
    const r = parseSmartctl(read('smart-sat.json'), '/dev/sdc');
    expect(r.protocol).toBe('ATA');
    expect(r.smartPassed).toBeUndefined();
    // 196 raw.value 53416508262463 is packed; smartctl decodes it as "2111 (12437 0)".
    expect(r.ataAttributes!.find((a) => a.id === 196)!.raw).toBe(2111);
    const w = parseSmartctl(read('smart-ata.json'), '/dev/sdb');
    expect(w).toMatchObject({
      model: 'WDC WD140EDFZ-11A0VA0',
      serial: '9RK1XXXX',
      capacityBytes: 14000519643136,
    });
  });

  it('lists every reason of the failed Hitachi', () => {
    const v = smartVerdict(parseSmartctl(read('smart-fail2.json'), '/dev/sdc'), null);
    expect(v.reasons).toEqual([
      'SMART overall-health self-assessment FAILED',
      'pre-failure attribute at or below threshold: Reallocated_Sector_Ct (5)',
      '1975 reallocated sectors',
      '8 sectors pending reallocation (unreadable)',
      '56 errors in the device error log',
      'the self-test log reports a failed test',
    ]);
  });

  it('marks the WD disk failing when its bad sectors grow by 30 between two polls', () => {
    const first = smartVerdict(parseSmartctl(read('smart-ata-date.json'), '/dev/sdb'), null);
    const second = smartVerdict(parseSmartctl(read('smart-ata-date2.json'), '/dev/sdb'), first);
    expect(second.verdict).toBe('failing');
    expect(second.reasons).toContain(
      'media degrading fast since last poll: +10 reallocated sectors, +10 sectors pending reallocation (unreadable), ' +
        '+10 offline-uncorrectable sectors, +10 interface CRC errors (cable or connector)',
    );
  });
});
