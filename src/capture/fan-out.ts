import type { Pool } from 'pg';
import { fanOutCaptures } from '../db/capture/fan-out';
import { WakeableLoop } from '../lib/wakeable-loop';
import { countIngested } from '../metrics/ingest-counter';

export interface FanOutOptions {
  /** Changes per transaction (a 1,000,000-row UPDATE goes out in slices of this many). */
  sliceSize: number;
  /** Fallback poll when no NOTIFY arrives, ms. */
  pollMs: number;
}

export interface FanOutStats {
  state: 'idle' | 'fanning-out' | 'error' | 'stopped';
  fannedOut: number;
  lastError: string | null;
}

type Log = { warn(o: object, m: string): void };

/**
 * Turns trigger captures (journaled in the writer's transaction) into events, woken by the triggers'
 * NOTIFY and polling as the fallback. Every process runs one; the database lets one at a time work and
 * the others step back (-1), so per-record order holds across processes.
 */
export class CaptureFanOut extends WakeableLoop {
  private readonly s: FanOutStats = { state: 'idle', fannedOut: 0, lastError: null };
  /** Called after changes went out (the drain and relay of this process can start at once). */
  onFannedOut: (() => void) | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly opts: FanOutOptions,
    private readonly log: Log,
  ) {
    super();
  }

  get stats(): FanOutStats {
    return { ...this.s };
  }

  protected async afterStop(): Promise<void> {
    this.s.state = 'stopped';
  }

  protected async run(): Promise<void> {
    let backoff = 250;
    while (!this.stopping) {
      try {
        this.signal.reset();
        const n = await fanOutCaptures(this.pool, this.opts.sliceSize);
        this.s.lastError = null;
        backoff = 250;
        if (n > 0) {
          this.s.state = 'fanning-out';
          this.s.fannedOut += n;
          // Counted where they become events: by the process that fanned them out.
          countIngested('trigger', n);
          this.onFannedOut?.();
          continue;
        }
        this.s.state = 'idle';
        // -1: another process holds the fan-out; look again soon in case it stopped just before a commit.
        await this.signal.sleep(n < 0 ? Math.min(50, this.opts.pollMs) : this.opts.pollMs);
      } catch (err) {
        const message = (err as Error).message;
        if (this.s.state !== 'error') this.log.warn({ err: message }, 'capture fan-out failed; will retry');
        this.s.state = 'error';
        this.s.lastError = message;
        await this.signal.sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
}
