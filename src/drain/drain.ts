import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { RouteDispatcher } from '../callout/dispatcher';
import type { RouteCaller } from '../callout/route-caller';
import { releaseMine } from '../db/queue/recover';
import type { Entry } from './batch';
import { watchBatches } from './batch-watch';
import { ClaimWindow } from './claim-window';
import { LaneKeeper } from './lane-keeper';
import type { Leader } from './leader';
import { leaderDuties } from './leader-duties';
import { Settler, type SettledEvent } from './settler';
import type { DrainEvents, DrainLog, DrainOptions, DrainStats } from './types';
import { Watchdog } from './watchdog';

export type * from './types';

/** Everything a drain needs; the service, the bench, the chaos suite and the tests all build it with createDrain. */
export interface DrainDeps {
  /** The drain's own pool: claims, settles, heartbeats (the service gives it a statement timeout). */
  pool: Pool;
  /** The coordinator lease: its holder runs the recovery sweeps (relay and planner follow it too). */
  leader: Leader;
  /**
   * This instance's lanes (claims take rows of these only). Default: a keeper with the leader's holder and
   * ttl and the lane count the database has.
   */
  lanes?: LaneKeeper;
  /**
   * One caller per route this process can deliver to (the routes it claims for); read live, so a route
   * registry that changes the map in place changes what the next claim takes.
   */
  callers: ReadonlyMap<string, RouteCaller>;
  /** Routes that may not be called now (paused, outside their delivery window): their rows are not claimed. */
  closedRoutes?: (now: Date) => string[];
  options: DrainOptions;
  log: DrainLog;
}

export function createDrain(d: DrainDeps): Drain {
  return new Drain(d);
}

/**
 * The drain of this instance's lanes (each lane has one active consumer across all instances), as three
 * stages with one direction:
 *
 *   ClaimWindow (claim-window.ts) --rows--> RouteDispatcher (callout/dispatcher.ts) --outcomes--> Settler
 *   Settler (settler.ts) --`settled`--> window (room), stats, metrics, dead-letter log, alerts
 *
 * The lanes come from the LaneKeeper (lane-keeper.ts), which hands a lane back only once the window has
 * nothing of it in flight. Coordinator-only work follows the leader lease (leader-duties.ts); the watchdog
 * (watchdog.ts) turns a drain that stopped moving into an error, a metric, a 503 from /readyz and a restart
 * of what is stuck.
 */
export class Drain extends EventEmitter<DrainEvents> {
  private readonly window: ClaimWindow;
  readonly lanes: LaneKeeper;
  private readonly dispatcher: RouteDispatcher<Entry>;
  private readonly settler: Settler;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopDuties: (() => void) | null = null;
  private readonly counts = { delivered: 0, retried: 0, dead: 0, deferred: 0, alerts: 0 };
  private readonly watchdog: Watchdog;

  constructor(private readonly d: DrainDeps) {
    super();
    const o = d.options;
    this.lanes = d.lanes ?? new LaneKeeper(d.pool, { holder: d.leader.holder, ttlMs: d.leader.ttlMs }, d.log);
    const routeOf = (name: string) => d.callers.get(name)?.route;
    this.settler = new Settler(d.pool, d.leader.holder, routeOf, d.log, {
      flushMs: o.settleDelayMs,
      attemptLog: o.attemptLog,
      inFlight: () => this.window.inFlight.size,
    });
    this.dispatcher = new RouteDispatcher<Entry>(
      d.callers,
      {
        ready: (e) => e.phase === 'queued',
        started: (chunk) => {
          for (const e of chunk) e.phase = 'calling';
          chunk[0].batch.started += chunk.length;
        },
        outcome: (e, outcome) => {
          if (e.phase === 'gone') return; // handed back meanwhile: a late outcome
          if (e.phase === 'calling') e.batch.finished++;
          e.phase = 'settling';
          this.settler.add(e, outcome);
        },
        dropped: (e) => this.window.release(e),
      },
      d.log,
    );
    const routes = () => {
      const closed = new Set(d.closedRoutes?.(new Date()) ?? []);
      return [...d.callers.values()].map((c) => c.route).filter((r) => !closed.has(r.name));
    };
    this.window = new ClaimWindow(
      d.pool,
      this.lanes,
      routes,
      o,
      (rows) => this.dispatcher.dispatch(rows),
      this,
      d.log,
    );
    this.lanes.attach({
      inFlightIn: (lane) => this.window.inFlightIn(lane),
      inFlightIds: () => [...this.window.inFlight.keys()],
      claiming: () => this.window.progress.claimStartedAt !== null,
    });
    this.lanes.on('changed', () => this.wake());
    this.settler.on('settled', (ev) => this.emit('settled', ev));
    this.on('settled', (ev) => this.onSettled(ev));
    this.on('alert', () => this.counts.alerts++);
    this.watchdog = new Watchdog(
      {
        pool: d.pool,
        lanes: this.lanes,
        window: this.window,
        settleStartedAt: () => this.settler.flushStartedAt,
        events: this,
        log: d.log,
      },
      o.stallAfterMs ?? 30_000,
    );
  }

  get stats(): DrainStats {
    const now = Date.now();
    const w = this.window;
    return {
      state: w.state,
      role: this.d.leader.isLeader ? 'leader' : 'standby',
      term: this.d.leader.currentTerm,
      lanes: this.lanes.view,
      inFlight: w.inFlight.size,
      batches: {
        started: w.counters.started,
        finished: w.counters.finished,
        rearms: w.counters.rearms,
        active: [...w.active].map((b) => b.view(now)),
      },
      lastBatch: w.lastBatch,
      ...this.counts,
      released: w.counters.released,
      stalled: this.watchdog.reason,
    };
  }

  /** Takes this instance's lanes (resolves after the first lease round), then starts claiming. */
  async start(): Promise<void> {
    const o = this.d.options;
    const warnAfterMs = o.warnAfterMs ?? 20 * 60_000;
    const stopAfterMs = o.stopAfterMs ?? 60 * 60_000;
    this.stopDuties = leaderDuties(this.d.pool, this.d.leader, () => this.wake(), this.d.log);
    const beatEvery = Math.max(1000, Math.floor(o.rowLeaseMs / 3));
    this.timers.push(setInterval(() => void this.window.beat(), beatEvery));
    this.timers.push(
      setInterval(
        () =>
          watchBatches(
            this.window,
            this.d.pool,
            this.d.leader.holder,
            { warnAfterMs, stopAfterMs },
            this,
            this.d.log,
          ),
        Math.min(1000, warnAfterMs / 2),
      ),
    );
    this.timers.push(setInterval(() => this.watchdog.check(), this.watchdog.everyMs));
    await this.lanes.start();
    this.window.start();
  }

  /** A hint that rows may be waiting (NOTIFY, a push in this process, settled rows). */
  wake(): void {
    this.window.wake();
  }

  /**
   * Stops claiming at once, lets callouts in flight finish within the grace period (callouts not yet
   * started are not started), writes their outcomes, then hands back anything still claimed.
   */
  async stop(graceMs = this.d.options.shutdownGraceMs ?? 10_000): Promise<void> {
    if (this.window.state === 'stopped') return;
    this.window.setState('stopping');
    this.dispatcher.stop();
    await this.window.stopClaiming();
    const deadline = Date.now() + graceMs;
    const calling = () => [...this.window.inFlight.values()].some((e) => e.phase !== 'settling');
    while (calling() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.settler.drain(Math.max(deadline, Date.now() + 2000));
    for (const t of this.timers) clearInterval(t);
    this.stopDuties?.();
    const left = await releaseMine(this.d.pool, this.d.leader.holder).catch(() => 0);
    this.window.counters.released += left;
    if (left) this.d.log.warn({ released: left }, 'unfinished rows handed back at shutdown');
    this.window.inFlight.clear();
    this.window.active.clear();
    await this.lanes.stop();
    this.window.setState('stopped');
  }

  private onSettled({ entries, settlement: s }: SettledEvent): void {
    this.counts.delivered += s.counts.delivered;
    this.counts.retried += s.counts.retried;
    this.counts.dead += s.counts.dead;
    this.counts.deferred += s.counts.deferred;
    if (s.counts.dead > 0) this.deadLettered(entries, s);
    this.window.settled(entries);
  }

  private deadLettered(entries: Entry[], s: SettledEvent['settlement']): void {
    const dead = new Map(s.failures.filter((f) => f.dead).map((f) => [f.id, f]));
    for (const { event } of entries) {
      const f = dead.get(event.id);
      if (f)
        this.emit('deadLettered', {
          id: event.id,
          eventId: event.eventId,
          route: event.route,
          attempts: event.attempts,
          error: f.error,
          status: f.status,
        });
    }
  }
}
