import { EventEmitter } from 'node:events';
import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome } from '../callout/outcome';
import { settleRows } from '../db/queue/settle-rows';
import type { Queryable } from '../db/pool';
import { Backoff } from '../lib/retry';
import { attemptRows, healthRows } from './attempt-rows';
import type { Entry } from './batch';
import type { SettledPair } from './observer';
import { settle, type Settlement } from './settle';

/** The one event every consumer of outcomes subscribes to: metrics, the dead-letter log, alerts, stats. */
export interface SettledEvent {
  entries: Entry[];
  /** Each row and what its callout came to, in the order they settled. */
  pairs: SettledPair[];
  /** What was written: done, retried, deferred, dead (settle.ts decides which). */
  settlement: Settlement;
  /** From the start of the oldest claimed batch these rows belong to, ms. */
  ms: number;
}

type Log = { warn(o: object, m: string): void };

/** Outcomes that make a flush worth its fixed cost at once, without waiting out flushMs. */
export const FLUSH_ROWS = 100;

/**
 * The third stage of the drain: collects callout outcomes and writes them in bulk, one transaction per
 * flush (the attempt log and the routes' failure clocks in the same statement), then emits `settled`.
 * One flush at a time. A flush goes out as soon as nothing else is on its way (every row in flight has its
 * outcome: a quiet queue settles at once), or FLUSH_ROWS outcomes are waiting, or the first of them has
 * waited `flushMs`: a flush costs a fixed ~1 ms of node and Postgres CPU whatever its size, so an instance
 * delivering a few hundred events a second (one of several sharing the lanes) must not write them two at a
 * time. A failed flush (database
 * away, statement timeout) is kept and retried with backoff: outcomes are never dropped while the process
 * lives, and after a crash an unsettled row is only delivered again (at-least-once).
 */
export class Settler extends EventEmitter<{ settled: [SettledEvent] }> {
  /** Outcomes waiting for the next flush: each row's entry, and its pair (what `settled` carries), in step. */
  private entries: Entry[] = [];
  private pairs: SettledPair[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
  private closed = false;
  /** When the running flush began (the watchdog reads it), or null. */
  flushStartedAt: number | null = null;

  private inFlush = 0;
  private readonly flushMs: number;
  private readonly attemptLog: boolean;

  constructor(
    private readonly db: Queryable,
    private readonly holder: string,
    private readonly routeOf: (name: string) => RouteConfig | undefined,
    private readonly log: Log,
    private readonly o: {
      /** The longest the first waiting outcome waits for others before a flush, ms (25). */
      flushMs?: number;
      /** Write every attempt to the attempt log (in the same statement). */
      attemptLog?: boolean;
      /** Rows in flight in the drain (claimed and not yet settled), outcomes waiting here included. */
      inFlight: () => number;
    },
  ) {
    super();
    this.flushMs = o.flushMs ?? 25;
    this.attemptLog = o.attemptLog ?? true;
  }

  get size(): number {
    return this.entries.length;
  }

  add(entry: Entry, outcome: CalloutOutcome): void {
    this.entries.push(entry);
    this.pairs.push({ event: entry.event, outcome });
    this.kick();
  }

  /** Flushes now if enough is gathered or nothing else is coming, else within flushMs of the first. */
  private kick(): void {
    const waiting = this.entries.length;
    if (this.flushing || this.closed || waiting === 0) return;
    const coming = this.o.inFlight() - waiting - this.inFlush;
    if (waiting >= FLUSH_ROWS || coming <= 0) return this.flushNow();
    if (this.scheduled) return;
    this.scheduled = true;
    this.timer = setTimeout(() => this.flushNow(), this.flushMs);
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
      this.kick(); // what arrived meanwhile
    });
  }

  /** Flushes what is buffered; gives up (leaving the rows claimed) once `deadline` passes. */
  async drain(deadline: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    while ((this.entries.length || this.flushing) && Date.now() < deadline) {
      this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
      await Promise.race([
        this.flushing,
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
    this.closed = true;
  }

  private async flushOnce(): Promise<void> {
    if (this.entries.length && !this.closed) {
      const entries = this.entries;
      const pairs = this.pairs;
      this.entries = [];
      this.pairs = [];
      this.inFlush = entries.length;
      const s = settle(pairs, this.routeOf);
      this.flushStartedAt = Date.now();
      try {
        await settleRows(this.db, this.holder, {
          ...s,
          attempts: this.attemptLog ? attemptRows(pairs) : null,
          health: healthRows(pairs),
        });
        this.backoff.reset();
        let oldest = Infinity;
        for (const e of entries) if (e.batch.startedAt < oldest) oldest = e.batch.startedAt;
        this.emit('settled', { entries, pairs, settlement: s, ms: Date.now() - oldest });
      } catch (err) {
        this.entries = entries.concat(this.entries);
        this.pairs = pairs.concat(this.pairs);
        const waitMs = this.backoff.next();
        this.log.warn(
          { err: (err as Error).message, query: 'settle', rows: entries.length, retryInMs: waitMs },
          'settle failed; retrying',
        );
        await new Promise((r) => setTimeout(r, waitMs));
      } finally {
        this.flushStartedAt = null;
        this.inFlush = 0;
      }
    }
  }
}
