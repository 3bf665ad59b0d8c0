import type { Pool } from 'pg';
import { pruneDone, prunePublished } from '../db/queue/prune';

export interface PrunerOptions {
  /** Age after which done rows and published change-log rows go, ms; 0 keeps everything. */
  retentionMs: number;
  /** Time between prune runs, ms. */
  intervalMs: number;
  /** Rows per DELETE (small, so no statement holds locks for long). */
  chunk?: number;
  /** Pause between two DELETEs of one run, ms, leaving the database to the drain. */
  pauseMs?: number;
}

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * Deletes done queue rows and published event_log rows past their retention, in small batches with a
 * pause between them, only while this process leads (one pruner is enough). Dead letters stay.
 */
export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly stats = { runs: 0, done: 0, published: 0, lastRunAt: null as string | null };

  constructor(
    private readonly pool: Pool,
    private readonly isLeader: () => boolean,
    private readonly opts: PrunerOptions,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.opts.retentionMs <= 0) return;
    const tick = () => {
      this.running = (this.isLeader() ? this.runOnce().then(() => undefined) : Promise.resolve())
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'prune failed; next run retries'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
        });
    };
    this.timer = setTimeout(tick, Math.min(this.opts.intervalMs, 5_000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass: repeats small deletes until nothing is left to prune (or leadership goes). */
  async runOnce(): Promise<{ done: number; published: number }> {
    const chunk = this.opts.chunk ?? 1000;
    const pause = this.opts.pauseMs ?? 20;
    const out = { done: 0, published: 0 };
    for (const [key, prune] of [
      ['done', pruneDone],
      ['published', prunePublished],
    ] as const) {
      for (;;) {
        if (this.stopped || !this.isLeader()) break;
        const n = await prune(this.pool, this.opts.retentionMs, chunk);
        out[key] += n;
        if (n < chunk) break;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    this.stats.runs++;
    this.stats.done += out.done;
    this.stats.published += out.published;
    this.stats.lastRunAt = new Date().toISOString();
    if (out.done || out.published) this.log.info(out, 'pruned');
    return out;
  }
}
