import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome } from '../callout/route-caller';
import { complete } from '../db/queue/complete';
import { fail } from '../db/queue/fail';
import type { Queryable } from '../db/pool';
import type { Entry } from './batch';
import { settle, type Settlement } from './settle';

export interface SettleItem {
  entry: Entry;
  outcome: CalloutOutcome;
  route: RouteConfig | undefined;
}

type Log = { warn(o: object, m: string): void };

/**
 * Collects callout outcomes and writes them in bulk: one flush at a time, and everything that finished
 * while a flush ran goes out in the next one, so the batch size grows with the load and a quiet
 * queue still settles within a tick. A failed flush (database away) is kept and retried with backoff:
 * outcomes are never dropped while the process lives, and after a crash an unsettled row is only
 * delivered again (at-least-once).
 */
export class SettleBuffer {
  private items: SettleItem[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private retryMs = 0;
  private closed = false;

  constructor(
    private readonly db: Queryable,
    private readonly holder: string,
    private readonly onSettled: (items: SettleItem[], s: Settlement) => void,
    private readonly log: Log,
    /** How long the first outcome waits for others before a flush, ms. */
    private readonly flushMs = 10,
  ) {}

  get size(): number {
    return this.items.length;
  }

  add(item: SettleItem): void {
    this.items.push(item);
    if (this.flushing) return;
    if (this.scheduled) {
      // Enough for a full statement: no need to wait out the timer.
      if (this.items.length >= 500) this.flushNow();
      return;
    }
    this.scheduled = true;
    // A short wait gathers the outcomes of many callouts into one UPDATE: each flush is a transaction,
    // and under load hundreds of tiny ones would cost Postgres more than the callouts cost us.
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
      const s = settle(items.map((i) => ({ event: i.entry.event, outcome: i.outcome, route: i.route })));
      try {
        await Promise.all([
          complete(this.db, this.holder, s.done.ids, s.done.statuses),
          fail(this.db, this.holder, s.failures),
        ]);
        this.retryMs = 0;
        this.onSettled(items, s);
      } catch (err) {
        this.items = items.concat(this.items);
        this.retryMs = Math.min(5000, Math.max(100, this.retryMs * 2));
        this.log.warn({ err: (err as Error).message, rows: items.length }, 'settle failed; retrying');
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    }
  }
}
