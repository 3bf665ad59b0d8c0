import type { ClaimedEvent } from '../db/queue/types';
import type { CalloutOutcome, RouteCaller } from './route-caller';

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
  private readonly lanes = new Map<string, Lane<T>>();
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
      const lane = this.laneOf(route);
      const size = this.callers.get(route)?.batch ?? 1;
      for (let i = 0; i < list.length; i += size) lane.queue.push(list.slice(i, i + size));
      this.pump(lane);
    }
  }

  /** Starts no new chunk from now on; queued items are dropped as their loops reach them. */
  stop(): void {
    this.stopping = true;
  }

  /** Chunks queued, per route (what waits for a concurrency slot). */
  queued(route: string): number {
    return this.lanes.get(route)?.queue.length ?? 0;
  }

  private laneOf(route: string): Lane<T> {
    let lane = this.lanes.get(route);
    if (!lane) {
      lane = { route, queue: new ChunkQueue(), pumps: 0 };
      this.lanes.set(route, lane);
    }
    return lane;
  }

  /**
   * Starts loops up to the route's concurrency; each takes the next waiting chunk, runs it, and goes on
   * until the lane is empty. A fixed set of loops instead of one waiting promise per claimed row: a
   * window of a thousand rows then holds a thousand small entries, not a thousand suspended callouts.
   */
  private pump(lane: Lane<T>): void {
    // The route's current concurrency: a route changed while running takes effect on the next chunks.
    const limit = Math.max(1, this.callers.get(lane.route)?.route.concurrency ?? 1);
    while (lane.pumps < limit && lane.queue.length > 0) {
      lane.pumps++;
      void this.pumpLoop(lane);
    }
  }

  private async pumpLoop(lane: Lane<T>): Promise<void> {
    try {
      for (let chunk = lane.queue.shift(); chunk; chunk = lane.queue.shift()) {
        await this.send(lane, chunk).catch((err: unknown) =>
          this.log.error(
            { err: (err as Error).message, route: lane.route },
            'callout chunk failed unexpectedly',
          ),
        );
      }
    } finally {
      lane.pumps--;
    }
  }

  private async send(lane: Lane<T>, chunk: T[]): Promise<void> {
    if (this.stopping || chunk.some((item) => !this.sink.ready(item))) {
      for (const item of chunk) this.sink.dropped(item);
      return;
    }
    const caller = this.callers.get(lane.route);
    if (!caller) {
      // Claimed for a route this process has no caller for (its config changed since): try again later.
      const retryAt = new Date(Date.now() + 60_000);
      const error = `route "${lane.route}" is not configured`;
      for (const item of chunk) this.sink.outcome(item, { kind: 'deferred', retryAt, error });
      return;
    }
    this.sink.started(chunk);
    const outcomes = await caller.deliver(chunk.map((item) => item.event));
    for (let i = 0; i < chunk.length; i++) this.sink.outcome(chunk[i], outcomes[i]);
  }
}

interface Lane<T> {
  route: string;
  queue: ChunkQueue<T[]>;
  /** Loops working this lane now (at most the route's concurrency). */
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
