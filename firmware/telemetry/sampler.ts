import type { FileRoot } from '../../drivers/fileroot/file-root.js';
import { sampleBoard, type BoardSample, type SampleOptions, type TelemetrySummary } from './sample.js';

/**
 * Samples the board on a fixed period and keeps the latest summary, so the heartbeat reads it synchronously
 * (`telemetry: () => sampler.latest()`). A slow sample is never overlapped by the next.
 */
export class TelemetrySampler {
  private last: BoardSample | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly root: FileRoot,
    private readonly opts: SampleOptions & { periodMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.periodMs ?? 1000);
    await this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  latest(): TelemetrySummary | undefined {
    return this.last?.summary;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.last = await sampleBoard(this.root, this.last, this.opts);
    } finally {
      this.busy = false;
    }
  }
}
