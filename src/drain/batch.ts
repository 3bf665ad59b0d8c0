import type { ClaimedEvent } from '../db/queue/types';

/** A claimed row while this process works on it. `phase` tells what a slow-batch stop may hand back. */
export interface Entry {
  event: ClaimedEvent;
  batch: Batch;
  phase: 'queued' | 'calling' | 'settling' | 'gone';
}

/** What status and events show of one batch: its size and the started/finished counts of its work. */
export interface BatchView {
  id: number;
  size: number;
  /** Callouts started (rows handed to the route's caller). */
  started: number;
  /** Callouts finished (an outcome is known, success or not). */
  finished: number;
  /** Rows settled in the database (done, retry, dead) or handed back. */
  settled: number;
  startedAt: string;
  ageMs: number;
}

/** One claim's rows and their progress; the batch ends when every row is settled or handed back. */
export class Batch {
  started = 0;
  finished = 0;
  settled = 0;
  warned = false;
  stopped = false;
  readonly startedAt = Date.now();

  constructor(
    readonly id: number,
    readonly size: number,
  ) {}

  get done(): boolean {
    return this.settled >= this.size;
  }

  view(now = Date.now()): BatchView {
    return {
      id: this.id,
      size: this.size,
      started: this.started,
      finished: this.finished,
      settled: this.settled,
      startedAt: new Date(this.startedAt).toISOString(),
      ageMs: now - this.startedAt,
    };
  }
}
