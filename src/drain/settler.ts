import { EventEmitter } from 'node:events';
import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome } from '../callout/route-caller';
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

/**
 * The third stage of the drain: collects callout outcomes and writes them in bulk, one transaction per
 * flush (the attempt log and the routes' failure clocks in the same statement), then emits `settled`.
 * One flush at a time, and everything that finished while a flush ran goes out in the next one, so the
 * flush size grows with the load and a quiet queue still settles within a tick. A failed flush (database
 * away, statement timeout) is kept and retried with backoff: outcomes are never dropped while the process
 * lives, and after a crash an unsettled row is only delivered again (at-least-once).
 */
export class Settler extends EventEmitter<{ settled: [SettledEvent] }> {
  private items: Array<{ entry: Entry; outcome: CalloutOutcome }> = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5000 });
  private closed = false;
  /** When the running flush began (the watchdog reads it), or null. */
  flushStartedAt: number | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly holder: string,
    private readonly routeOf: (name: string) => RouteConfig | undefined,
    private readonly log: Log,
    /** How long the first outcome waits for others before a flush, ms. */
    private readonly flushMs = 10,
    /** Write every attempt to the attempt log (in the same statement). */
    private readonly attemptLog = true,
  ) {
    super();
  }

  get size(): number {
    return this.items.length;
  }

  add(entry: Entry, outcome: CalloutOutcome): void {
    this.items.push({ entry, outcome });
    if (this.flushing) return;
    if (this.scheduled) {
      // Enough for a full statement: no need to wait out the timer.
      if (this.items.length >= 500) this.flushNow();
      return;
    }
    this.scheduled = true;
    // A short wait gathers the outcomes of many callouts into one statement: each flush is a
    // transaction, and under load hundreds of tiny ones would cost Postgres more than the callouts cost us.
    this.timer = setTimeout(() => this.flushNow(), this.flushMs);
  }

  private flushNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    this.flushing ??= this.flushAll().finally(() => (this.flushing = null));
  }

  /** Flushes what is buffered; gives up (leaving the rows claimed) once `deadline` passes. */
  async drain(deadline: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.scheduled = false;
    while ((this.items.length || this.flushing) && Date.now() < deadline) {
      this.flushing ??= this.flushAll().finally(() => (this.flushing = null));
      await Promise.race([
        this.flushing,
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
    this.closed = true;
  }

  private async flushAll(): Promise<void> {
    while (this.items.length && !this.closed) {
      const items = this.items;
      this.items = [];
      const pairs = items.map((i) => ({ event: i.entry.event, outcome: i.outcome }));
      const s = settle(pairs.map((p) => ({ ...p, route: this.routeOf(p.event.route) })));
      this.flushStartedAt = Date.now();
      try {
        await settleRows(this.db, this.holder, {
          ...s,
          attempts: this.attemptLog ? attemptRows(pairs) : null,
          health: healthRows(pairs),
        });
        this.backoff.reset();
        const entries = items.map((i) => i.entry);
        const oldest = Math.min(...entries.map((e) => e.batch.startedAt));
        this.emit('settled', { entries, pairs, settlement: s, ms: Date.now() - oldest });
      } catch (err) {
        this.items = items.concat(this.items);
        const waitMs = this.backoff.next();
        this.log.warn(
          { err: (err as Error).message, query: 'settle', rows: items.length, retryInMs: waitMs },
          'settle failed; retrying',
        );
        await new Promise((r) => setTimeout(r, waitMs));
      } finally {
        this.flushStartedAt = null;
      }
    }
  }
}
