import { MemoryRoot } from '../fileroot/memory-root.js';

/**
 * An emulated board's `/proc` and `/sys`, in the kernel's exact text formats so the real readers parse it.
 * Everything is a deterministic function of (board, seed, time): load wanders by a seeded random walk in one-second
 * steps, counters integrate it, the temperature lags behind the load. Time comes from `performance.now()`, so fake
 * timers drive it.
 */

export interface EmulatedDisk {
  /** Kernel name, e.g. `sda`. */
  name: string;
  model: string;
  serial: string;
  sizeBytes: number;
  /** Partition sizes in bytes, numbered from 1. */
  partitions?: number[];
}

export interface EmulatedBoardOptions {
  board: number;
  seed?: number;
  cores?: number;
  memTotalBytes?: number;
  /** Network interfaces besides `lo`; default `eth0`. */
  interfaces?: string[];
  disks?: EmulatedDisk[];
  /** Milliseconds, monotonic. */
  clock?: () => number;
}

const HZ = 100;
const TICK_MS = 1000;
const PAGE = 4096;

/** mulberry32: tiny, fast and good enough for plausible noise. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CoreJiffies {
  user: number;
  system: number;
  idle: number;
  iowait: number;
  softirq: number;
}

interface NetState {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
  rxRate: number;
}

interface DiskState {
  reads: number;
  sectorsRead: number;
  readMs: number;
  writes: number;
  sectorsWritten: number;
  writeMs: number;
  ioMs: number;
}

/** State at the start of tick `k`, plus the rates that hold during it. */
interface State {
  k: number;
  load: number[];
  jiffies: CoreJiffies[];
  memUsed: number;
  tempC: number;
  loadavg: [number, number, number];
  net: Map<string, NetState>;
  disks: Map<string, DiskState>;
  pid: number;
}

export class EmulatedBoard {
  readonly root = new MemoryRoot();
  /** The memory the board has, as /proc/meminfo's MemTotal says. */
  get memTotalBytes(): number {
    return this.memTotal;
  }

  private readonly rand: () => number;
  private readonly clock: () => number;
  private readonly start: number;
  readonly cores: number;
  private readonly memTotal: number;
  private readonly bootUptime: number;
  private readonly disks = new Map<string, EmulatedDisk>();
  private state: State;
  private mountLines: string[];

  constructor(readonly opts: EmulatedBoardOptions) {
    this.rand = prng((opts.seed ?? 1) * 7919 + opts.board * 104729);
    this.clock = opts.clock ?? (() => performance.now());
    this.start = this.clock();
    this.cores = opts.cores ?? 4;
    this.memTotal = opts.memTotalBytes ?? 1024 * 1024 * 1024;
    this.bootUptime = 40 + opts.board * 3.7;
    const load = Array.from({ length: this.cores }, () => 0.05 + 0.3 * this.rand());
    const jiffies = load.map(() => ({
      user: Math.round(this.bootUptime * HZ * 0.2),
      system: Math.round(this.bootUptime * HZ * 0.1),
      idle: Math.round(this.bootUptime * HZ * 0.68),
      iowait: Math.round(this.bootUptime * HZ * 0.02),
      softirq: Math.round(this.bootUptime * HZ * 0.01),
    }));
    const net = new Map<string, NetState>();
    for (const name of ['lo', ...(opts.interfaces ?? ['eth0'])]) {
      net.set(name, {
        rxBytes: 0,
        rxPackets: 0,
        txBytes: 0,
        txPackets: 0,
        rxRate: name === 'lo' ? 2e3 : 2e5,
      });
    }
    this.state = {
      k: 0,
      load,
      jiffies,
      memUsed: this.memTotal * (0.25 + 0.1 * this.rand()),
      tempC: 38 + 2 * this.rand(),
      loadavg: [0.5, 0.4, 0.3],
      net,
      disks: new Map(),
      pid: 1000 + opts.board * 10,
    };
    this.mountLines = [
      '/dev/root / ext4 rw,noatime 0 0',
      'devtmpfs /dev devtmpfs rw,relatime,size=10240k,nr_inodes=124583,mode=755 0 0',
      'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0',
      'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
      'tmpfs /run tmpfs rw,nosuid,nodev,size=201940k,nr_inodes=819200,mode=755 0 0',
    ];
    this.addDisk({
      name: 'mmcblk0',
      model: '',
      serial: '',
      sizeBytes: 15931539456,
      partitions: [134217728, 15795224576],
    });
    for (const d of opts.disks ?? []) this.addDisk(d);
    this.install();
  }

  /** Plugs a disk in (it shows in /sys/block and /proc/diskstats from the next read). */
  addDisk(disk: EmulatedDisk): void {
    this.disks.set(disk.name, disk);
    const zero = (): DiskState => ({
      reads: 0,
      sectorsRead: 0,
      readMs: 0,
      writes: 0,
      sectorsWritten: 0,
      writeMs: 0,
      ioMs: 0,
    });
    this.state.disks.set(disk.name, zero());
    (disk.partitions ?? []).forEach((_, i) => this.state.disks.set(partName(disk.name, i + 1), zero()));
    const dir = `sys/block/${disk.name}`;
    const isMmc = disk.name.startsWith('mmcblk');
    const port = [...this.disks.keys()].filter((n) => !n.startsWith('mmcblk')).indexOf(disk.name) + 1;
    const devpath = isMmc
      ? `../devices/platform/soc/1c0f000.mmc/mmc_host/mmc0/mmc0:aaaa/block/${disk.name}`
      : `../devices/platform/soc/1c18000.sata/ata${port}/host${port - 1}/target${port - 1}:0:0/${port - 1}:0:0:0/block/${disk.name}`;
    this.root.setLink(dir, devpath);
    this.root.set(`${dir}/size`, String(Math.floor(disk.sizeBytes / 512)) + '\n');
    this.root.set(`${dir}/removable`, '0\n');
    this.root.set(`${dir}/ro`, '0\n');
    this.root.setLink(`${dir}/device`, isMmc ? '../../../mmc0:aaaa' : `../../../${port - 1}:0:0:0`);
    if (!isMmc) {
      this.root.set(`${dir}/device/model`, disk.model.padEnd(16) + '\n');
      this.root.set(`${dir}/device/vendor`, 'ATA     \n');
      this.root.set(
        `${dir}/device/vpd_pg80`,
        '\x00\x80\x00' + String.fromCharCode(disk.serial.length) + disk.serial,
      );
    }
    let start = 2048;
    (disk.partitions ?? []).forEach((bytes, i) => {
      const p = `${dir}/${partName(disk.name, i + 1)}`;
      this.root.set(`${p}/partition`, `${i + 1}\n`);
      this.root.set(`${p}/start`, `${start}\n`);
      this.root.set(`${p}/size`, `${Math.floor(bytes / 512)}\n`);
      start += Math.floor(bytes / 512);
    });
  }

  /** Unplugs a disk: gone from /sys/block and /proc/diskstats. */
  removeDisk(name: string): void {
    const disk = this.disks.get(name);
    if (!disk) return;
    this.disks.delete(name);
    this.state.disks.delete(name);
    (disk.partitions ?? []).forEach((_, i) => this.state.disks.delete(partName(name, i + 1)));
    this.root.delete(`sys/block/${name}`);
  }

  /** Adds a line to /proc/mounts, as `mount` would. */
  mount(source: string, target: string, fstype = 'ext4', options = 'rw,noatime'): void {
    this.mountLines.push(`${source} ${target.replace(/ /g, '\\040')} ${fstype} ${options} 0 0`);
  }

  umount(target: string): void {
    const t = target.replace(/ /g, '\\040');
    this.mountLines = this.mountLines.filter((l) => l.split(' ')[1] !== t);
  }

  /** The average load 0..1 the board is under right now (for tests that check the temperature follows it). */
  currentLoad(): number {
    this.advance();
    return this.state.load.reduce((a, b) => a + b, 0) / this.cores;
  }

  private elapsedMs(): number {
    return Math.max(0, this.clock() - this.start);
  }

  /** Steps whole ticks up to now; a long jump reuses the last rates instead of walking millions of steps. */
  private advance(): { s: State; frac: number } {
    const t = this.elapsedMs();
    const target = Math.floor(t / TICK_MS);
    while (this.state.k < target) {
      if (target - this.state.k > 100_000) this.step(target - this.state.k - 100_000, false);
      else this.step(1, true);
    }
    return { s: this.state, frac: (t - target * TICK_MS) / TICK_MS };
  }

  private step(ticks: number, wander: boolean): void {
    const s = this.state;
    const secs = ticks;
    s.jiffies.forEach((j, i) => {
      const inc = cpuIncrement(s.load[i]!, secs);
      for (const key of Object.keys(j) as (keyof CoreJiffies)[]) j[key] += inc[key];
    });
    for (const [name, n] of s.net) {
      const inc = netIncrement(name, n.rxRate, secs);
      n.rxBytes += inc.rx;
      n.txBytes += inc.tx;
      n.rxPackets += inc.rxp;
      n.txPackets += inc.txp;
    }
    const avg = s.load.reduce((a, b) => a + b, 0) / this.cores;
    for (const [name, d] of s.disks) {
      if (name.startsWith('mmcblk') && !/p\d+$/.test(name)) continue;
      const ops = Math.round(avg * 20 * secs);
      d.reads += ops;
      d.sectorsRead += ops * 64;
      d.readMs += ops * 2;
      d.writes += Math.round(ops / 2);
      d.sectorsWritten += Math.round(ops / 2) * 16;
      d.writeMs += ops;
      d.ioMs += Math.min(1000 * secs, ops * 3);
    }
    // Whole disks sum their partitions, as the kernel does.
    for (const [name, disk] of this.disks) {
      const parts = (disk.partitions ?? []).map((_, i) => s.disks.get(partName(name, i + 1))!);
      if (parts.length === 0) continue;
      const d = s.disks.get(name)!;
      for (const key of Object.keys(d) as (keyof DiskState)[]) d[key] = parts.reduce((a, p) => a + p[key], 0);
    }
    const running = avg * this.cores;
    [60, 300, 900].forEach((window, i) => {
      const e = Math.exp(-secs / window);
      s.loadavg[i] = s.loadavg[i]! * e + running * (1 - e);
    });
    s.tempC += (38 + 32 * avg - s.tempC) * (1 - Math.exp(-secs / 20));
    s.pid += secs * 0.3;
    if (wander) {
      s.load = s.load.map((l) => clamp(l + (this.rand() - 0.5) * 0.2, 0.02, 0.98));
      s.memUsed = clamp(
        s.memUsed + (this.rand() - 0.5) * 0.02 * this.memTotal,
        0.15 * this.memTotal,
        0.85 * this.memTotal,
      );
      for (const [name, n] of s.net) {
        if (name !== 'lo') n.rxRate = clamp(n.rxRate * (0.8 + 0.4 * this.rand()), 1e4, 5e6);
      }
    }
    s.k += ticks;
  }

  private install(): void {
    const r = this.root;
    r.set('proc/stat', () => this.procStat());
    r.set('proc/loadavg', () => this.procLoadAvg());
    r.set('proc/meminfo', () => this.procMemInfo());
    r.set('proc/uptime', () => this.procUptime());
    r.set('proc/net/dev', () => this.procNetDev());
    r.set('proc/diskstats', () => this.procDiskStats());
    r.set('proc/mounts', () => this.mountLines.join('\n') + '\n');
    r.set('proc/self/mounts', () => this.mountLines.join('\n') + '\n');
    r.set('proc/cpuinfo', () => this.procCpuInfo());
    r.set('proc/device-tree/model', `Skyminer compute board ${this.opts.board} (emulated)\0`);
    r.set('proc/device-tree/compatible', 'skyminer,compute-board\0allwinner,sun50i-h5\0');
    r.setLink('sys/class/thermal/thermal_zone0', '../../devices/virtual/thermal/thermal_zone0');
    r.set('sys/class/thermal/thermal_zone0/type', 'cpu-thermal\n');
    r.set('sys/class/thermal/thermal_zone0/temp', () => `${Math.round(this.advance().s.tempC * 1000)}\n`);
  }

  private procStat(): string {
    const { s, frac } = this.advance();
    // Interpolate inside the current tick so two reads in one second still see time pass.
    const now = s.jiffies.map((j, i) => {
      const inc = cpuIncrement(s.load[i]!, frac);
      return {
        user: j.user + inc.user,
        system: j.system + inc.system,
        idle: j.idle + inc.idle,
        iowait: j.iowait + inc.iowait,
        softirq: j.softirq + inc.softirq,
      };
    });
    const line = (label: string, j: CoreJiffies): string =>
      `${label} ${j.user} 0 ${j.system} ${j.idle} ${j.iowait} 0 ${j.softirq} 0 0 0`;
    const total = now.reduce(
      (a, j) => ({
        user: a.user + j.user,
        system: a.system + j.system,
        idle: a.idle + j.idle,
        iowait: a.iowait + j.iowait,
        softirq: a.softirq + j.softirq,
      }),
      { user: 0, system: 0, idle: 0, iowait: 0, softirq: 0 },
    );
    const ctxt = Math.round(total.user * 31 + total.system * 17);
    return (
      [
        line('cpu ', total),
        ...now.map((j, i) => line(`cpu${i}`, j)),
        `intr ${Math.round(ctxt / 2)} 0 0 0`,
        `ctxt ${ctxt}`,
        `btime ${1700000000 + this.opts.board}`,
        `processes ${Math.floor(s.pid)}`,
        `procs_running ${Math.max(1, Math.round(s.load.reduce((a, b) => a + b, 0)))}`,
        'procs_blocked 0',
        `softirq ${total.softirq} 0 0 0 0 0 0 0 0 0 0`,
      ].join('\n') + '\n'
    );
  }

  private procLoadAvg(): string {
    const { s } = this.advance();
    const running = Math.max(1, Math.round(s.load.reduce((a, b) => a + b, 0)));
    return `${s.loadavg.map((l) => l.toFixed(2)).join(' ')} ${running}/${97 + this.opts.board} ${Math.floor(s.pid)}\n`;
  }

  private procMemInfo(): string {
    const { s } = this.advance();
    const kb = (bytes: number): number => Math.floor(bytes / PAGE) * (PAGE / 1024);
    const total = kb(this.memTotal);
    const used = kb(s.memUsed);
    const cached = kb(this.memTotal * 0.12);
    const buffers = kb(this.memTotal * 0.02);
    const free = total - used - cached - buffers;
    const rows: [string, number][] = [
      ['MemTotal', total],
      ['MemFree', free],
      ['MemAvailable', free + cached + buffers],
      ['Buffers', buffers],
      ['Cached', cached],
      ['SwapCached', 0],
      ['Active', kb(s.memUsed * 0.6)],
      ['Inactive', kb(s.memUsed * 0.3)],
      ['SwapTotal', 0],
      ['SwapFree', 0],
      ['Dirty', 12],
      ['Shmem', kb(this.memTotal * 0.01)],
      ['SReclaimable', kb(this.memTotal * 0.01)],
    ];
    return rows.map(([k, v]) => `${(k + ':').padEnd(16)}${String(v).padStart(8)} kB`).join('\n') + '\n';
  }

  private procUptime(): string {
    const { s } = this.advance();
    const up = this.bootUptime + this.elapsedMs() / 1000;
    const idle = s.jiffies.reduce((a, j) => a + j.idle, 0) / HZ;
    return `${up.toFixed(2)} ${idle.toFixed(2)}\n`;
  }

  private procNetDev(): string {
    const { s, frac } = this.advance();
    const head =
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
    const rows = [...s.net].map(([name, n]) => {
      const inc = netIncrement(name, n.rxRate, frac);
      const [rx, tx, rxp, txp] = [
        n.rxBytes + inc.rx,
        n.txBytes + inc.tx,
        n.rxPackets + inc.rxp,
        n.txPackets + inc.txp,
      ];
      const v = [rx, rxp, 0, 0, 0, 0, 0, 0, tx, txp, 0, 0, 0, 0, 0, 0];
      const w = [8, 7, 4, 4, 4, 5, 10, 9, 8, 7, 4, 4, 4, 5, 7, 10];
      return `${name.padStart(6)}:` + v.map((x, i) => String(x).padStart(w[i]!)).join(' ') + '\n';
    });
    return head + rows.join('');
  }

  private procDiskStats(): string {
    const { s } = this.advance();
    const rows: string[] = [];
    let sd = 0;
    for (const [name, disk] of this.disks) {
      const isMmc = name.startsWith('mmcblk');
      const maj = isMmc ? 179 : 8;
      const base = isMmc ? 0 : 16 * sd++;
      const names = [name, ...(disk.partitions ?? []).map((_, i) => partName(name, i + 1))];
      names.forEach((n, i) => {
        const d = s.disks.get(n)!;
        const f = [d.reads, 0, d.sectorsRead, d.readMs, d.writes, 0, d.sectorsWritten, d.writeMs, 0, d.ioMs];
        const rest = [d.readMs + d.writeMs, 0, 0, 0, 0, 0, 0];
        rows.push(
          `${String(maj).padStart(4)} ${String(base + i).padStart(7)} ${n} ${[...f, ...rest].join(' ')}\n`,
        );
      });
    }
    return rows.join('');
  }

  private procCpuInfo(): string {
    const core = (i: number): string =>
      `processor\t: ${i}\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n` +
      `CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd03\nCPU revision\t: 4\n`;
    return Array.from({ length: this.cores }, (_, i) => core(i)).join('\n');
  }
}

/** Jiffies a core at `load` spends in each state over `secs`; monotonic in `secs`, so counters never step back. */
function cpuIncrement(load: number, secs: number): CoreJiffies {
  const busy = load * HZ * secs;
  const idle = (HZ * secs - busy) * 0.99;
  return {
    user: Math.round(busy * 0.7),
    system: Math.round(busy * 0.25),
    softirq: Math.round(busy * 0.05),
    idle: Math.round(idle),
    iowait: Math.round((HZ * secs - busy) * 0.01),
  };
}

function netIncrement(
  name: string,
  rxRate: number,
  secs: number,
): { rx: number; tx: number; rxp: number; txp: number } {
  const rx = Math.round(rxRate * secs);
  const tx = Math.round(rxRate * secs * (name === 'lo' ? 1 : 0.3));
  return { rx, tx, rxp: Math.round(rx / 900), txp: Math.round(tx / 600) };
}

function partName(disk: string, n: number): string {
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
