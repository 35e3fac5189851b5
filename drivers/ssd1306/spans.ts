/** A rectangle of display RAM: columns c0..c1 and pages p0..p1, inclusive. */
export interface Span {
  c0: number;
  c1: number;
  p0: number;
  p1: number;
}

/** Bytes on the bus for one span: a window transaction (address, control, 6 command bytes) and a data run. */
export function spanCost(s: Span): number {
  return 8 + 2 + (s.c1 - s.c0 + 1) * (s.p1 - s.p0 + 1);
}

/** Below this many unchanged columns, bridging a gap costs less than opening a new span. */
const GAP_BRIDGE = 10;

/**
 * The changed regions between two frames in SSD1306 page layout, as few cheap spans: changed columns of a
 * page join into runs (bridging short gaps), then runs of neighbouring pages merge into one rectangle when
 * that sends fewer bytes than sending them apart.
 */
export function changedSpans(prev: Uint8Array, next: Uint8Array, width: number): Span[] {
  const pages = next.length / width;
  const rows: Span[][] = [];
  for (let p = 0; p < pages; p++) {
    const runs: Span[] = [];
    const base = p * width;
    let c = 0;
    while (c < width) {
      if (prev[base + c] === next[base + c]) {
        c++;
        continue;
      }
      const last = runs[runs.length - 1];
      if (last && c - last.c1 - 1 < GAP_BRIDGE) last.c1 = c;
      else runs.push({ c0: c, c1: c, p0: p, p1: p });
      c++;
    }
    rows.push(runs);
  }
  const done: Span[] = [];
  let open: Span[] = [];
  for (const runs of rows) {
    const nextOpen: Span[] = [];
    for (const run of runs) {
      const i = open.findIndex((o) => o.c0 <= run.c1 && run.c0 <= o.c1);
      if (i >= 0) {
        const o = open[i]!;
        const merged = { c0: Math.min(o.c0, run.c0), c1: Math.max(o.c1, run.c1), p0: o.p0, p1: run.p1 };
        if (spanCost(merged) <= spanCost(o) + spanCost(run)) {
          open.splice(i, 1);
          nextOpen.push(merged);
          continue;
        }
      }
      nextOpen.push(run);
    }
    done.push(...open);
    open = nextOpen;
  }
  done.push(...open);
  return done.sort((a, b) => a.p0 - b.p0 || a.c0 - b.c0);
}

/** Copies a span's bytes out of a page-layout frame in horizontal addressing order. */
export function spanBytes(frame: Uint8Array, width: number, s: Span): Uint8Array {
  const w = s.c1 - s.c0 + 1;
  const out = new Uint8Array(w * (s.p1 - s.p0 + 1));
  for (let p = s.p0; p <= s.p1; p++)
    out.set(frame.subarray(p * width + s.c0, p * width + s.c1 + 1), (p - s.p0) * w);
  return out;
}
