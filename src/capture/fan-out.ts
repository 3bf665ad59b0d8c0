import type { Pool } from 'pg';
import { capturesWaiting } from '../db/capture/backlog';
import { fanOutCaptures } from '../db/capture/fan-out';
import { Backoff } from '../lib/retry';
import { WakeableLoop } from '../lib/wakeable-loop';
import { countIngested } from '../metrics/ingest-counter';

export interface FanOutOptions {
  /** Changes per transaction (a 1,000,000-row UPDATE goes out in slices of this many). */
  sliceSize: number;
  /**
   * How soon it looks at the journal again after changes went out, ms; after a slow round, as long as it
   * took (at most 4x this): changes arriving meanwhile go out together instead of one costly round each.
   */
  busyPollMs: number;
  /** Longest wait between looks while the journal stays empty, ms (the wait doubles from busyPollMs up to this). */
  idlePollMs: number;
}

/** A round of this many changes may have left more behind: the next one starts at once. */
const FULL_ROUND = 1000;

/** The service's settings: slices of 10,000; a look every 10 ms while busy, at most every 250 ms (or pollMs) idle. */
export function fanOutOptions(pollMs: number): FanOutOptions {
  return { sliceSize: 10_000, busyPollMs: 10, idlePollMs: Math.min(pollMs, 250) };
}

export interface FanOutStats {
  state: 'idle' | 'fanning-out' | 'error' | 'stopped';
  fannedOut: number;
  lastError: string | null;
}

type Log = { warn(o: object, m: string): void };

/**
 * Turns trigger captures (journaled in the writer's transaction) into events. Triggers do not NOTIFY (it
 * would serialise the writers' commits), so it looks at the journal itself: every busyPollMs while changes
 * come in, backing off to idlePollMs while none do; a NOTIFY (wake) only makes it look at once. Every
 * process runs one; the database lets one at a time work and the others step back (-1), so per-record
 * order holds across processes.
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
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
    let idle = this.opts.busyPollMs;
    while (!this.stopping) {
      try {
        this.signal.reset();
        const started = Date.now();
        const n = (await capturesWaiting(this.pool))
          ? await fanOutCaptures(this.pool, this.opts.sliceSize)
          : 0;
        const busy = Math.min(Math.max(this.opts.busyPollMs, Date.now() - started), 4 * this.opts.busyPollMs);
        this.s.lastError = null;
        backoff.reset();
        if (n > 0) {
          this.s.state = 'fanning-out';
          this.s.fannedOut += n;
          // Counted where they become events: by the process that fanned them out.
          countIngested('trigger', n);
          this.onFannedOut?.();
          idle = this.opts.busyPollMs;
          if (n >= FULL_ROUND) continue;
        } else if (n === 0) {
          this.s.state = 'idle';
          idle = Math.min(idle * 2, this.opts.idlePollMs);
        }
        // -1: another process holds the fan-out; look again soon in case it stopped just before a commit.
        await this.signal.sleep(n === 0 ? idle : busy);
      } catch (err) {
        const message = (err as Error).message;
        if (this.s.state !== 'error') this.log.warn({ err: message }, 'capture fan-out failed; will retry');
        this.s.state = 'error';
        this.s.lastError = message;
        await this.signal.sleep(backoff.next());
      }
    }
  }
}
