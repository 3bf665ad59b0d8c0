import type { ClaimedEvent } from '../db/queue/types';
import type { RouteCaller } from './route-caller';
import type { CalloutOutcome } from './outcome';

/** What the dispatcher carries: a claimed row and whatever its owner tracks with it. */
export interface Dispatchable {
  event: ClaimedEvent;
}

export interface DispatchSink<T extends Dispatchable> {
  /** May this item still be sent? (false: it was handed back meanwhile). */
  ready(item: T): boolean;
  /** A chunk is about to go out. */
  started(items: T[]): void;
  /** Each item's outcome, in order, once its chunk is answered. */
  outcome(item: T, outcome: CalloutOutcome): void;
  /** Not sent (the dispatcher is stopping, or the item was handed back): the owner gives it back. */
  dropped(item: T): void;
}

/**
 * The second stage of the drain: the only owner of how claimed rows become requests. Per route it
 * groups rows into chunks of the connector's batch size and works them off with at most the route's
 * `concurrency` loops (both read from the route's current caller); each chunk goes through the route's caller (rate limit, breaker, probes,
 * timeouts). Outcomes flow on to the sink (the settler); nothing comes back up.
 */
export class RouteDispatcher<T extends Dispatchable> {
  private readonly queues = new Map<string, RouteQueue<T>>();
  private stopping = false;

  constructor(
    private readonly callers: ReadonlyMap<string, RouteCaller>,
    private readonly sink: DispatchSink<T>,
    private readonly log: { error(o: object, m: string): void },
  ) {}

  /** Queues claimed items (any routes) for sending. */
  dispatch(items: T[]): void {
    const byRoute = new Map<string, T[]>();
    for (const item of items) {
      const list = byRoute.get(item.event.route);
      if (list) list.push(item);
      else byRoute.set(item.event.route, [item]);
    }
    for (const [route, list] of byRoute) {
      const q = this.queueOf(route);
      const size = this.callers.get(route)?.batch ?? 1;
      for (let i = 0; i < list.length; i += size) q.queue.push(list.slice(i, i + size));
      this.pump(q);
    }
  }

  /** Starts no new chunk from now on; queued items are dropped as their loops reach them. */
  stop(): void {
    this.stopping = true;
  }

  /** Chunks queued, per route (what waits for a concurrency slot). */
  queued(route: string): number {
    return this.queues.get(route)?.queue.length ?? 0;
  }

  private queueOf(route: string): RouteQueue<T> {
    let q = this.queues.get(route);
    if (!q) {
      q = { route, queue: new ChunkQueue(), pumps: 0 };
      this.queues.set(route, q);
    }
    return q;
  }

  /**
   * Starts loops up to the route's concurrency; each takes the next waiting chunk, runs it, and goes on
   * until the queue is empty. A fixed set of loops instead of one waiting promise per claimed row: a
   * window of a thousand rows then holds a thousand small entries, not a thousand suspended callouts.
   */
  private pump(q: RouteQueue<T>): void {
    // The route's current concurrency (this instance's share of it): a route changed while running, or a
    // change of the lanes this instance holds, takes effect on the next chunks.
    const limit = Math.max(1, this.callers.get(q.route)?.concurrency ?? 1);
    while (q.pumps < limit && q.queue.length > 0) {
      q.pumps++;
      void this.pumpLoop(q);
    }
  }

  private async pumpLoop(q: RouteQueue<T>): Promise<void> {
    try {
      for (let chunk = q.queue.shift(); chunk; chunk = q.queue.shift()) {
        try {
          await this.send(q, chunk);
        } catch (err) {
          this.log.error(
            { err: (err as Error).message, route: q.route },
            'callout chunk failed unexpectedly',
          );
        }
      }
    } finally {
      q.pumps--;
    }
  }

  private async send(q: RouteQueue<T>, chunk: T[]): Promise<void> {
    if (this.stopping || !this.allReady(chunk)) {
      for (const item of chunk) this.sink.dropped(item);
      return;
    }
    const caller = this.callers.get(q.route);
    if (!caller) {
      // Claimed for a route this process has no caller for (its config changed since): try again later.
      const retryAt = new Date(Date.now() + 60_000);
      const error = `route "${q.route}" is not configured`;
      for (const item of chunk) this.sink.outcome(item, { kind: 'deferred', retryAt, error });
      return;
    }
    this.sink.started(chunk);
    const events = new Array<ClaimedEvent>(chunk.length);
    for (let i = 0; i < chunk.length; i++) events[i] = chunk[i].event;
    const outcomes = await caller.deliver(events);
    for (let i = 0; i < chunk.length; i++) this.sink.outcome(chunk[i], outcomes[i]);
  }

  private allReady(chunk: T[]): boolean {
    for (const item of chunk) if (!this.sink.ready(item)) return false;
    return true;
  }
}

interface RouteQueue<T> {
  route: string;
  queue: ChunkQueue<T[]>;
  /** Loops working this queue now (at most the route's concurrency). */
  pumps: number;
}

/** A FIFO with O(1) shift (Array#shift is O(n) on a window of a thousand rows). */
class ChunkQueue<C> {
  private items: Array<C | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(chunk: C): void {
    this.items.push(chunk);
  }

  shift(): C | undefined {
    if (this.head >= this.items.length) return undefined;
    const chunk = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return chunk;
  }
}
