import type { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import type { RouteConfig } from '../config/route-schema';
import { claim } from '../db/queue/claim';
import { heartbeat } from '../db/queue/heartbeat';
import { releaseMine } from '../db/queue/recover';
import type { ClaimedEvent } from '../db/queue/types';
import { WakeSignal } from '../lib/wake-signal';
import { Batch, type Entry } from './batch';
import { routeQuotas } from './fairness';
import type { ClaimableLanes, LaneKeeper } from './lane-keeper';
import type { ConsumerState, DrainEvents, DrainLog } from './types';

/** What the watchdog reads of the window to tell waiting from stalling. */
export interface WindowProgress {
  /** Last time the drain moved: rows claimed or settled, or a claim found the queue caught up. */
  lastProgressAt: number;
  /** The running claim query began at (ms), or null. */
  claimStartedAt: number | null;
  /** Last claim error and how many claims in a row failed. */
  lastError: string | null;
  failures: number;
  /** The last claim filled its limit (more is waiting) or failed: work is known to be waiting. */
  backlog: boolean;
}

/**
 * The first stage of the drain: while this process holds lanes, keeps a window of up to `maxInFlight`
 * claimed rows of them. A new claim goes out as soon as there is room for one (so it overlaps the callouts of
 * the last), shared among routes by the fairness policy (fairness.ts), and its rows go on to the
 * dispatcher. Rows leave the window when settled or handed back (`release`).
 *
 *   standby --elected--> idle --rows claimed--> running --claimed again without going idle--> re-armed
 *   running/re-armed --claim finds nothing and nothing in flight--> idle (sleeps until NOTIFY or poll)
 *   any --lease lost--> standby (claims stop at once; work in flight is finished and settled)
 *
 * Per-record order holds because the claim only takes a record's head row, and a row stays 'running'
 * until its outcome is written.
 */
export class ClaimWindow {
  readonly inFlight = new Map<string, Entry>();
  readonly active = new Set<Batch>();
  private readonly perRoute = new Map<string, number>();
  private readonly perLane = new Map<number, number>();
  private readonly signal = new WakeSignal();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private batchSeq = 0;
  state: ConsumerState = 'standby';
  private stalledHold = false;
  private heldState: ConsumerState = 'standby';
  readonly counters = { started: 0, finished: 0, rearms: 0, released: 0 };
  lastBatch: (ReturnType<Batch['view']> & { finishedAt: string }) | null = null;
  readonly progress: WindowProgress = {
    lastProgressAt: Date.now(),
    claimStartedAt: null,
    lastError: null,
    failures: 0,
    backlog: false,
  };
  readonly maxInFlight: number;

  constructor(
    private readonly pool: Pool,
    private readonly lanes: LaneKeeper,
    /** The routes this process can call (the only ones it claims for). */
    private readonly routes: () => Iterable<RouteConfig>,
    private readonly opts: { batchSize: number; pollMs: number; rowLeaseMs: number; maxInFlight?: number },
    private readonly onClaimed: (entries: Entry[]) => void,
    private readonly events: EventEmitter<DrainEvents>,
    private readonly log: DrainLog,
  ) {
    this.maxInFlight = Math.max(opts.batchSize, opts.maxInFlight || 2 * opts.batchSize);
  }

  start(): void {
    this.loop = this.run();
  }

  /** A hint that rows may be waiting (NOTIFY, a push in this process, settled rows). */
  wake(): void {
    this.signal.wake();
  }

  /** Stops claiming; resolves once the loop has ended (rows in flight stay for the caller to finish). */
  async stopClaiming(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  /**
   * The consumer's state. While the watchdog holds it at 'stalled' (`stalled(true)`), the loop's own
   * transitions are remembered, not shown, so a stall stays visible until the watchdog lifts it;
   * stopping and stopped always go through.
   */
  setState(s: ConsumerState): void {
    if (this.stalledHold && s !== 'stopping' && s !== 'stopped' && s !== 'stalled') {
      this.heldState = s;
      return;
    }
    if (this.state === s) return;
    this.state = s;
    this.events.emit('state', s);
  }

  /** The watchdog's verdict: hold the state at 'stalled', or lift it back to the loop's latest. */
  stalled(on: boolean): void {
    if (on) {
      if (!this.stalledHold) this.heldState = this.state;
      this.stalledHold = false;
      this.setState('stalled');
      this.stalledHold = true;
    } else if (this.stalledHold) {
      this.stalledHold = false;
      this.setState(this.heldState);
    }
  }

  /** The row leaves the window (settled or handed back); its batch may be over. */
  release(entry: Entry): void {
    if (entry.phase === 'gone') return;
    entry.phase = 'gone';
    if (this.inFlight.get(entry.event.id) === entry) {
      this.inFlight.delete(entry.event.id);
      const n = (this.perRoute.get(entry.event.route) ?? 1) - 1;
      if (n > 0) this.perRoute.set(entry.event.route, n);
      else this.perRoute.delete(entry.event.route);
      const l = (this.perLane.get(entry.event.lane) ?? 1) - 1;
      if (l > 0) this.perLane.set(entry.event.lane, l);
      else this.perLane.delete(entry.event.lane);
    }
    const b = entry.batch;
    b.settled++;
    if (b.done && this.active.delete(b)) {
      this.counters.finished++;
      const view = b.view();
      this.lastBatch = { ...view, finishedAt: new Date().toISOString() };
      this.events.emit('batchFinished', view);
    }
  }

  /** Settled rows moved the drain and may unblock later rows of their records. */
  settled(entries: Entry[]): void {
    for (const e of entries) this.release(e);
    this.progress.lastProgressAt = Date.now();
    this.wake();
  }

  /** Rows of `lane` in flight (a lane is handed back only once this is 0). */
  inFlightIn(lane: number): number {
    return this.perLane.get(lane) ?? 0;
  }

  /** Extends the claim on every row this process runs, so a long callout is not taken for a dead worker. */
  async beat(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await heartbeat(this.pool, this.lanes.holder, this.opts.rowLeaseMs).catch((err) =>
      this.log.warn({ err: (err as Error).message, query: 'heartbeat' }, 'heartbeat failed'),
    );
  }

  private async run(): Promise<void> {
    let wentIdle = true;
    while (!this.stopping) {
      const held = this.lanes.claimable();
      if (held === null) {
        if (this.inFlight.size === 0) this.setState('standby');
        this.progress.lastProgressAt = Date.now();
        this.progress.backlog = false;
        this.signal.reset(); // NOTIFYs mean nothing to a standby; only lanes taken should cut its sleep short
        await this.signal.sleep(this.opts.pollMs);
        wentIdle = true;
        continue;
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
      const rows = await this.claim(held, limit);
      if (rows === null) {
        await this.signal.sleep(Math.min(this.opts.pollMs, 1000));
        continue;
      }
      if (this.stopping && rows.length) {
        await releaseMine(
          this.pool,
          this.lanes.holder,
          rows.map((r) => r.id),
        ).catch(() => undefined);
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
    }
  }

  /** One claim, timed for the watchdog; null when it failed (logged with its query name, retried). */
  private async claim(held: ClaimableLanes, limit: number): Promise<ClaimedEvent[] | null> {
    const p = this.progress;
    p.claimStartedAt = Date.now();
    try {
      const rows = await claim(this.pool, {
        limit,
        routes: routeQuotas(this.routes(), this.perRoute, limit, this.maxInFlight),
        holder: this.lanes.holder,
        lanes: held.lanes,
        terms: held.terms,
        leaseMs: this.opts.rowLeaseMs,
      });
      p.failures = 0;
      p.lastError = null;
      p.backlog = rows.length >= limit;
      if (rows.length > 0 || !p.backlog) p.lastProgressAt = Date.now();
      return rows;
    } catch (err) {
      p.failures++;
      p.lastError = (err as Error).message;
      p.backlog = true;
      this.log.error(
        { err: p.lastError, query: 'claim', ms: Date.now() - p.claimStartedAt, failures: p.failures },
        'drain claim failed; retrying',
      );
      return null;
    } finally {
      p.claimStartedAt = null;
    }
  }

  private startBatch(rows: ClaimedEvent[]): void {
    const batch = new Batch(++this.batchSeq, rows.length);
    this.active.add(batch);
    this.counters.started++;
    const entries = rows.map((event): Entry => ({ event, batch, phase: 'queued' }));
    for (const e of entries) {
      this.inFlight.set(e.event.id, e);
      this.perRoute.set(e.event.route, (this.perRoute.get(e.event.route) ?? 0) + 1);
      this.perLane.set(e.event.lane, (this.perLane.get(e.event.lane) ?? 0) + 1);
    }
    this.events.emit('batchStarted', batch.view());
    this.onClaimed(entries);
  }
}
