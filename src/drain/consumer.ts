import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { WakeSignal } from '../lib/wake-signal';
import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome, RouteCaller } from '../callout/route-caller';
import { claim } from '../db/queue/claim';
import { heartbeat } from '../db/queue/heartbeat';
import { recoverExpired, releaseMine, releaseStale } from '../db/queue/recover';
import type { ClaimedEvent } from '../db/queue/types';
import type { Leader } from './leader';
import type { DrainObserver } from './observer';
import { Batch, type BatchView, type Entry } from './batch';
import { SettleBuffer, type SettleItem } from './settle-buffer';
import type { Settlement } from './settle';

export type ConsumerState = 'standby' | 'idle' | 'running' | 're-armed' | 'stopping' | 'stopped';

export interface DrainOptions {
  /** Rows per claim (500). */
  batchSize: number;
  /** Fallback poll when no NOTIFY arrives, ms (1000). */
  pollMs: number;
  /** Claim lease per row, renewed by heartbeat while it is in flight, ms (60,000). */
  rowLeaseMs: number;
  /** Rows in flight at once across overlapping batches (default 2 x batchSize). */
  maxInFlight?: number;
  /** A batch older than this logs a warning and emits an 'alert', ms (20 min). */
  warnAfterMs?: number;
  /** A batch older than this hands its unfinished rows back to the queue, ms (60 min). */
  stopAfterMs?: number;
  /** stop(): how long in-flight callouts may finish before their rows are handed back, ms (10 s). */
  shutdownGraceMs?: number;
  /** How long a finished callout waits for others so their outcomes go out in one UPDATE, ms (10). */
  settleDelayMs?: number;
  /** Routes the claim skips for now (the route registry's paused and out-of-window routes). */
  closedRoutes?: (now: Date) => string[];
}

export type DrainAlert =
  | { kind: 'batch-slow'; batch: BatchView; warnAfterMs: number }
  | { kind: 'batch-stopped'; batch: BatchView; stopAfterMs: number; released: number };

export interface DeadLetterInfo {
  id: string;
  eventId: string;
  route: string;
  attempts: number;
  error: string;
  status: number | null;
}

/** Typed lifecycle events, so alerts and dashboards can be wired without reading logs. */
export interface DrainEvents {
  state: [ConsumerState];
  batchStarted: [BatchView];
  batchFinished: [BatchView];
  alert: [DrainAlert];
  deadLettered: [DeadLetterInfo];
}

export interface DrainStats {
  state: ConsumerState;
  role: 'leader' | 'standby';
  term: number | null;
  inFlight: number;
  batches: { started: number; finished: number; rearms: number; active: BatchView[] };
  lastBatch: (BatchView & { finishedAt: string }) | null;
  delivered: number;
  retried: number;
  dead: number;
  deferred: number;
  /** Rows handed back unsettled (slow-batch stop, shutdown). */
  released: number;
  alerts: number;
}

type Log = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
};

/**
 * The single-active drain. While this process leads it keeps a window of up to `maxInFlight` claimed
 * rows: a new batch is claimed as soon as there is room for one (so the next claim overlaps the
 * callouts of the last), callouts run with each route's concurrency, and outcomes are settled in bulk.
 *
 *   standby --elected--> idle --rows claimed--> running --claimed again without going idle--> re-armed
 *   running/re-armed --claim finds nothing and nothing in flight--> idle (sleeps until NOTIFY or poll)
 *   any --lease lost--> standby (claims stop at once; work in flight is finished and settled)
 *
 * Per-record order holds because the claim never takes a row while an earlier row of the same
 * record is pending or running, and a row stays 'running' until its outcome is written.
 */
export class DrainConsumer extends EventEmitter<DrainEvents> {
  private state: ConsumerState = 'standby';
  private stopping = false;
  private readonly signal = new WakeSignal();
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Map<string, Entry>();
  private readonly active = new Set<Batch>();
  /** Per route: chunks waiting for a callout slot (FIFO) and how many pumps work them off. */
  private readonly lanes = new Map<string, Lane>();
  private readonly settler: SettleBuffer;
  private readonly timers: NodeJS.Timeout[] = [];
  private batchSeq = 0;
  private readonly counters = {
    started: 0,
    finished: 0,
    rearms: 0,
    delivered: 0,
    retried: 0,
    dead: 0,
    deferred: 0,
    released: 0,
    alerts: 0,
  };
  private lastBatch: DrainStats['lastBatch'] = null;
  private readonly maxInFlight: number;
  private readonly warnAfterMs: number;
  private readonly stopAfterMs: number;
  /** Metrics and logs hook in here (set once after construction). */
  observer: DrainObserver | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly leader: Leader,
    private readonly callers: Map<string, RouteCaller>,
    private readonly routes: Map<string, RouteConfig>,
    private readonly opts: DrainOptions,
    private readonly log: Log,
  ) {
    super();
    this.maxInFlight = Math.max(opts.batchSize, opts.maxInFlight || 2 * opts.batchSize);
    this.warnAfterMs = opts.warnAfterMs ?? 20 * 60_000;
    this.stopAfterMs = opts.stopAfterMs ?? 60 * 60_000;
    this.settler = new SettleBuffer(
      pool,
      leader.holder,
      (items, s) => this.settled(items, s),
      log,
      opts.settleDelayMs ?? 10,
    );
    leader.on('elected', (term) => {
      // Rows an earlier leader (or an earlier life of this one) still holds will never be settled by
      // it: hand them back now instead of after their lease.
      releaseStale(this.pool, this.leader.holder, [...this.inFlight.keys()])
        .then((n) => this.log.info({ term, released: n }, 'drain leadership taken'))
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'release of earlier rows failed'))
        .finally(() => this.wake());
    });
    leader.on('lost', (reason) => this.log.warn({ reason }, 'drain leadership lost; claiming stops'));
  }

  get stats(): DrainStats {
    const now = Date.now();
    return {
      state: this.state,
      role: this.leader.isLeader ? 'leader' : 'standby',
      term: this.leader.currentTerm,
      inFlight: this.inFlight.size,
      batches: {
        started: this.counters.started,
        finished: this.counters.finished,
        rearms: this.counters.rearms,
        active: [...this.active].map((b) => b.view(now)),
      },
      lastBatch: this.lastBatch,
      delivered: this.counters.delivered,
      retried: this.counters.retried,
      dead: this.counters.dead,
      deferred: this.counters.deferred,
      released: this.counters.released,
      alerts: this.counters.alerts,
    };
  }

  start(): void {
    const beatEvery = Math.max(1000, Math.floor(this.opts.rowLeaseMs / 3));
    this.timers.push(setInterval(() => this.beat(), beatEvery));
    this.timers.push(setInterval(() => this.watchBatches(), Math.min(1000, this.warnAfterMs / 2)));
    this.loop = this.run();
  }

  /** A hint that rows may be waiting (NOTIFY, a push in this process, settled rows). */
  wake(): void {
    this.signal.wake();
  }

  /**
   * Stops claiming at once, lets callouts in flight finish within the grace period (callouts not yet
   * started are not started), writes their outcomes, then hands back anything still claimed.
   */
  async stop(graceMs = this.opts.shutdownGraceMs ?? 10_000): Promise<void> {
    if (this.state === 'stopped') return;
    this.stopping = true;
    this.setState('stopping');
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    const calling = () => [...this.inFlight.values()].some((e) => e.phase !== 'settling');
    while (calling() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.settler.drain(Math.max(deadline, Date.now() + 2000));
    for (const t of this.timers) clearInterval(t);
    const left = await releaseMine(this.pool, this.leader.holder).catch(() => 0);
    this.counters.released += left;
    if (left) this.log.warn({ released: left }, 'unfinished rows handed back at shutdown');
    this.inFlight.clear();
    this.active.clear();
    this.setState('stopped');
  }

  private setState(s: ConsumerState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  private async run(): Promise<void> {
    let lastSweep = 0;
    let wentIdle = true;
    while (!this.stopping) {
      const term = this.leader.currentTerm;
      if (term === null) {
        if (this.inFlight.size === 0) this.setState('standby');
        this.signal.reset(); // NOTIFYs mean nothing to a standby; only 'elected' should cut its sleep short
        await this.signal.sleep(this.opts.pollMs);
        wentIdle = true;
        continue;
      }
      try {
        if (Date.now() - lastSweep > 5_000) {
          lastSweep = Date.now();
          await recoverExpired(this.pool);
        }
        const room = this.maxInFlight - this.inFlight.size;
        if (room < Math.min(this.opts.batchSize, this.maxInFlight / 2)) {
          // The window is full: wait for settles to make room (they wake us).
          this.signal.reset();
          await this.signal.sleep(this.opts.pollMs);
          continue;
        }
        this.signal.reset();
        const limit = Math.min(this.opts.batchSize, room);
        const rows = await claim(this.pool, {
          limit,
          holder: this.leader.holder,
          term,
          leaseMs: this.opts.rowLeaseMs,
          closedRoutes: this.opts.closedRoutes?.(new Date()),
        });
        if (this.stopping && rows.length) {
          await releaseMine(
            this.pool,
            this.leader.holder,
            rows.map((r) => r.id),
          );
          break;
        }
        if (rows.length === 0) {
          if (this.inFlight.size === 0) {
            this.setState('idle');
            wentIdle = true;
          }
          await this.signal.sleep(this.opts.pollMs);
          continue;
        }
        if (wentIdle) this.setState('running');
        else {
          this.counters.rearms++;
          this.setState('re-armed');
        }
        wentIdle = false;
        this.startBatch(rows);
        // A short claim means the queue is (for now) empty: wait for a NOTIFY, a settle or the poll.
        if (rows.length < limit) await this.signal.sleep(this.opts.pollMs);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'drain loop error; retrying');
        await this.signal.sleep(Math.min(this.opts.pollMs, 1000));
      }
    }
  }

  private startBatch(rows: ClaimedEvent[]): void {
    const batch = new Batch(++this.batchSeq, rows.length);
    this.active.add(batch);
    this.counters.started++;
    const byRoute = new Map<string, Entry[]>();
    for (const event of rows) {
      const entry: Entry = { event, batch, phase: 'queued' };
      this.inFlight.set(event.id, entry);
      const list = byRoute.get(event.route);
      if (list) list.push(entry);
      else byRoute.set(event.route, [entry]);
    }
    const view = batch.view();
    this.observer?.batchStarted?.(view);
    this.emit('batchStarted', view);
    for (const [route, entries] of byRoute) {
      const size = this.callers.get(route)?.batch ?? 1;
      const lane = this.laneOf(route);
      if (size === 1) for (const e of entries) lane.queue.push([e]);
      else for (let i = 0; i < entries.length; i += size) lane.queue.push(entries.slice(i, i + size));
      this.pump(route, lane);
    }
  }

  private laneOf(route: string): Lane {
    let lane = this.lanes.get(route);
    if (!lane) {
      lane = {
        queue: new ChunkQueue(),
        pumps: 0,
        limit: Math.max(1, this.routes.get(route)?.concurrency ?? 1),
      };
      this.lanes.set(route, lane);
    }
    return lane;
  }

  /**
   * Starts pumps up to the route's concurrency; each takes the next waiting chunk, runs it, and goes on
   * until the lane is empty. A fixed set of loops instead of one waiting promise per claimed row: a
   * window of a thousand rows then holds a thousand small entries, not a thousand suspended callouts.
   */
  private pump(route: string, lane: Lane): void {
    while (lane.pumps < lane.limit && lane.queue.length > 0) {
      lane.pumps++;
      void this.pumpLoop(route, lane);
    }
  }

  private async pumpLoop(route: string, lane: Lane): Promise<void> {
    try {
      for (let chunk = lane.queue.shift(); chunk; chunk = lane.queue.shift()) {
        await this.runChunk(route, chunk).catch((err: unknown) =>
          this.log.error({ err: (err as Error).message, route }, 'callout chunk failed unexpectedly'),
        );
      }
    } finally {
      lane.pumps--;
    }
  }

  private async runChunk(route: string, chunk: Entry[]): Promise<void> {
    const caller = this.callers.get(route);
    if (!caller) {
      // Queued for a route this process has no config for: wait for a process (or config) that has it.
      const retryAt = new Date(Date.now() + 60_000);
      const error = `route "${route}" is not configured`;
      for (const e of chunk) this.finish(e, { kind: 'deferred', retryAt, error });
      return;
    }
    if (this.stopping || chunk.some((e) => e.phase !== 'queued')) {
      // Not started (shutdown, or its batch was stopped): the rows are handed back, not settled.
      for (const e of chunk) this.drop(e);
      return;
    }
    for (const e of chunk) e.phase = 'calling';
    chunk[0].batch.started += chunk.length;
    const outcomes = await caller.deliver(chunk.length === 1 ? [chunk[0].event] : chunk.map((e) => e.event));
    chunk[0].batch.finished += chunk.length;
    for (let i = 0; i < chunk.length; i++) this.finish(chunk[i], outcomes[i]);
  }

  private finish(entry: Entry, outcome: CalloutOutcome): void {
    if (entry.phase === 'gone') return; // handed back meanwhile: a late outcome
    entry.phase = 'settling';
    this.settler.add({ entry, outcome, route: this.routes.get(entry.event.route) });
  }

  private settled(items: SettleItem[], s: Settlement): void {
    this.counters.delivered += s.counts.delivered;
    this.counters.retried += s.counts.retried;
    this.counters.dead += s.counts.dead;
    this.counters.deferred += s.counts.deferred;
    if (this.observer) {
      // One call per bulk settle; its duration counts from the oldest batch it closes rows of.
      const oldest = Math.min(...items.map((i) => i.entry.batch.startedAt));
      const pairs = items.map((i) => ({ event: i.entry.event, outcome: i.outcome }));
      this.observer.batchSettled(pairs, s, Date.now() - oldest);
    }
    const dead = new Map(s.failures.filter((f) => f.dead).map((f) => [f.id, f]));
    for (const { entry } of items) {
      const f = dead.get(entry.event.id);
      if (f) {
        this.emit('deadLettered', {
          id: entry.event.id,
          eventId: entry.event.eventId,
          route: entry.event.route,
          attempts: entry.event.attempts,
          error: f.error,
          status: f.status,
        });
      }
      this.drop(entry);
    }
    this.wake(); // settled rows may unblock later rows of the same records
  }

  /** The row leaves this process's window (settled or handed back); its batch may be over. */
  private drop(entry: Entry): void {
    if (entry.phase === 'gone') return;
    entry.phase = 'gone';
    if (this.inFlight.get(entry.event.id) === entry) this.inFlight.delete(entry.event.id);
    const b = entry.batch;
    b.settled++;
    if (b.done && this.active.delete(b)) {
      this.counters.finished++;
      const view = b.view();
      this.lastBatch = { ...view, finishedAt: new Date().toISOString() };
      this.observer?.batchFinished?.(view);
      this.emit('batchFinished', view);
      this.wake();
    }
  }

  private beat(): void {
    if (this.inFlight.size === 0) return;
    heartbeat(this.pool, this.leader.holder, this.opts.rowLeaseMs).catch((err) =>
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed'),
    );
  }

  /** warnAfter: log and alert once; stopAfter: hand the batch's unfinished rows back to the queue. */
  private watchBatches(): void {
    const now = Date.now();
    for (const b of this.active) {
      const age = now - b.startedAt;
      if (age >= this.warnAfterMs && !b.warned) {
        b.warned = true;
        this.counters.alerts++;
        const batch = b.view(now);
        this.log.warn({ batch, warnAfterMs: this.warnAfterMs }, 'drain batch is running long');
        this.emit('alert', { kind: 'batch-slow', batch, warnAfterMs: this.warnAfterMs });
      }
      if (age >= this.stopAfterMs && !b.stopped) {
        b.stopped = true;
        const unfinished = [...this.inFlight.values()].filter((e) => e.batch === b && e.phase !== 'settling');
        for (const e of unfinished) this.drop(e);
        const ids = unfinished.map((e) => e.event.id);
        this.counters.released += ids.length;
        this.counters.alerts++;
        const batch = b.view(now);
        this.log.warn(
          { batch, released: ids.length },
          'drain batch stopped; unfinished rows back to the queue',
        );
        this.emit('alert', {
          kind: 'batch-stopped',
          batch,
          stopAfterMs: this.stopAfterMs,
          released: ids.length,
        });
        // The attempt is kept (as for a dead worker): a row that hangs every time still ends dead.
        if (ids.length)
          releaseMine(this.pool, this.leader.holder, ids, { refund: false }).catch((err) =>
            this.log.warn({ err: (err as Error).message }, 'release of a stopped batch failed'),
          );
      }
    }
  }
}

interface Lane {
  queue: ChunkQueue;
  /** Loops working this lane now (at most `limit`, the route's concurrency). */
  pumps: number;
  limit: number;
}

/** A FIFO of chunks with O(1) shift (Array#shift is O(n) on a window of a thousand rows). */
class ChunkQueue {
  private items: Array<Entry[] | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(chunk: Entry[]): void {
    this.items.push(chunk);
  }

  shift(): Entry[] | undefined {
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
