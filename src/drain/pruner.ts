import type { Pool } from 'pg';
import { pruneAttempts, pruneDone, prunePublished } from '../db/queue/prune';

export interface PrunerOptions {
  /** Age after which done rows and published change-log rows go, ms; 0 keeps everything. */
  retentionMs: number;
  /** Age after which attempt log rows go, ms; 0 (or absent) keeps them. */
  attemptRetentionMs?: number;
  /** Time between prune runs, ms. */
  intervalMs: number;
  /** Rows per DELETE (small, so no statement holds locks for long). */
  chunk?: number;
  /** Pause between two DELETEs of one run, ms, leaving the database to the drain. */
  pauseMs?: number;
}

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * Deletes done queue rows, published event_log rows and attempt log rows past their retention, in small batches with a
 * pause between them, only while this process leads (one pruner is enough). Dead letters stay.
 */
export class Pruner {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  readonly stats = { runs: 0, done: 0, published: 0, attempts: 0, lastRunAt: null as string | null };

  constructor(
    private readonly pool: Pool,
    private readonly isLeader: () => boolean,
    private readonly opts: PrunerOptions,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.opts.retentionMs <= 0 && !this.opts.attemptRetentionMs) return;
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
  async runOnce(): Promise<{ done: number; published: number; attempts: number }> {
    const chunk = this.opts.chunk ?? 1000;
    const pause = this.opts.pauseMs ?? 20;
    const out = { done: 0, published: 0, attempts: 0 };
    const { retentionMs, attemptRetentionMs = 0 } = this.opts;
    for (const [key, prune, keepMs] of [
      ['done', pruneDone, retentionMs],
      ['published', prunePublished, retentionMs],
      ['attempts', pruneAttempts, attemptRetentionMs],
    ] as const) {
      if (keepMs <= 0) continue;
      for (;;) {
        if (this.stopped || !this.isLeader()) break;
        const n = await prune(this.pool, keepMs, chunk);
        out[key] += n;
        if (n < chunk) break;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    this.stats.runs++;
    this.stats.done += out.done;
    this.stats.published += out.published;
    this.stats.attempts += out.attempts;
    this.stats.lastRunAt = new Date().toISOString();
    if (out.done || out.published || out.attempts) this.log.info(out, 'pruned');
    return out;
  }
}
