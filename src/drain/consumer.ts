import type { Pool } from 'pg';
import { WakeSignal } from '../lib/wake-signal';
import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome, RouteCaller } from '../callout/route-caller';
import { claim } from '../db/queue/claim';
import { complete } from '../db/queue/complete';
import { fail } from '../db/queue/fail';
import { heartbeat } from '../db/queue/heartbeat';
import { recoverExpired, releaseMine, releaseOthers } from '../db/queue/recover';
import type { ClaimedEvent } from '../db/queue/types';
import type { Leader } from './leader';
import type { DrainObserver } from './observer';
import { settle } from './settle';

export type ConsumerState = 'standby' | 'idle' | 'running' | 're-armed' | 'stopped';

export interface DrainOptions {
  /** Rows per claim. */
  batchSize: number;
  /** Fallback poll when no NOTIFY arrives, ms. */
  pollMs: number;
  /** Claim lease per row, renewed by heartbeat while a batch runs, ms. */
  rowLeaseMs: number;
}

export interface DrainStats {
  state: ConsumerState;
  role: 'leader' | 'standby';
  term: number | null;
  batches: { started: number; finished: number };
  lastBatch: { size: number; ms: number; finishedAt: string } | null;
  delivered: number;
  retried: number;
  dead: number;
  deferred: number;
}

type Log = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
};

/**
 * The single-active batch consumer. While this process leads: claim a batch, deliver it through the
 * routes' callers, settle it, and go again at once if rows are waiting (re-armed); with an empty
 * queue, sleep until a NOTIFY or the poll interval.
 */
export class DrainConsumer {
  private state: ConsumerState = 'standby';
  private stopping = false;
  private readonly signal = new WakeSignal();
  private loop: Promise<void> | null = null;
  private readonly counters = { started: 0, finished: 0, delivered: 0, retried: 0, dead: 0, deferred: 0 };
  private lastBatch: DrainStats['lastBatch'] = null;
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
    leader.on('elected', (term) => {
      // Rows an earlier leader still held will never be settled by it: hand them back now.
      releaseOthers(this.pool, this.leader.holder)
        .then((n) => this.log.info({ term, released: n }, 'drain leadership taken'))
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'release of earlier rows failed'))
        .finally(() => this.wake());
    });
    leader.on('lost', (reason) => this.log.warn({ reason }, 'drain leadership lost; claiming stops'));
  }

  get stats(): DrainStats {
    return {
      state: this.state,
      role: this.leader.isLeader ? 'leader' : 'standby',
      term: this.leader.currentTerm,
      batches: { started: this.counters.started, finished: this.counters.finished },
      lastBatch: this.lastBatch,
      delivered: this.counters.delivered,
      retried: this.counters.retried,
      dead: this.counters.dead,
      deferred: this.counters.deferred,
    };
  }

  start(): void {
    this.loop = this.run();
  }

  /** A hint that rows may be waiting (NOTIFY, or a push in this process). */
  wake(): void {
    this.signal.wake();
  }

  /** Stops claiming, lets the batch in flight finish, then hands back anything still claimed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.state = 'stopped';
    await releaseMine(this.pool, this.leader.holder).catch(() => undefined);
  }

  private async run(): Promise<void> {
    let lastSweep = 0;
    while (!this.stopping) {
      const term = this.leader.currentTerm;
      if (term === null) {
        this.state = 'standby';
        this.signal.reset(); // NOTIFYs mean nothing to a standby; only 'elected' should cut its sleep short
        await this.signal.sleep(this.opts.pollMs);
        continue;
      }
      try {
        if (Date.now() - lastSweep > 5_000) {
          lastSweep = Date.now();
          await recoverExpired(this.pool);
        }
        this.signal.reset();
        const batch = await claim(this.pool, {
          limit: this.opts.batchSize,
          holder: this.leader.holder,
          term,
          leaseMs: this.opts.rowLeaseMs,
        });
        if (batch.length === 0) {
          this.state = 'idle';
          await this.signal.sleep(this.opts.pollMs);
          continue;
        }
        this.state = 'running';
        await this.runBatch(batch);
        // Rows that came in while we worked (or a full batch) mean there is more: go again at once.
        if (this.signal.woken || batch.length === this.opts.batchSize) this.state = 're-armed';
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'drain loop error; retrying');
        await this.signal.sleep(Math.min(this.opts.pollMs, 1000));
      }
    }
  }

  private async runBatch(batch: ClaimedEvent[]): Promise<void> {
    const started = Date.now();
    this.counters.started++;
    const beat = setInterval(
      () => void heartbeat(this.pool, this.leader.holder, this.opts.rowLeaseMs).catch(() => undefined),
      Math.max(1000, Math.floor(this.opts.rowLeaseMs / 3)),
    );
    try {
      const byRoute = new Map<string, ClaimedEvent[]>();
      for (const e of batch) {
        const list = byRoute.get(e.route);
        if (list) list.push(e);
        else byRoute.set(e.route, [e]);
      }
      const pairs = (
        await Promise.all(
          [...byRoute].map(async ([route, events]) => {
            const outcomes = await this.deliver(route, events);
            return events.map((event, i) => ({ event, outcome: outcomes[i], route: this.routes.get(route) }));
          }),
        )
      ).flat();
      const s = settle(pairs);
      await Promise.all([
        complete(this.pool, this.leader.holder, s.done.ids, s.done.statuses),
        fail(this.pool, this.leader.holder, s.failures),
      ]);
      this.counters.delivered += s.counts.delivered;
      this.counters.retried += s.counts.retried;
      this.counters.dead += s.counts.dead;
      this.counters.deferred += s.counts.deferred;
      this.observer?.batchSettled(pairs, s, Date.now() - started);
    } finally {
      clearInterval(beat);
      this.counters.finished++;
      this.lastBatch = { size: batch.length, ms: Date.now() - started, finishedAt: new Date().toISOString() };
    }
  }

  private async deliver(route: string, events: ClaimedEvent[]): Promise<CalloutOutcome[]> {
    const caller = this.callers.get(route);
    if (!caller) {
      // A route that is queued for but not configured here: wait for a process (or config) that has it.
      const retryAt = new Date(Date.now() + 60_000);
      return events.map(() => ({ kind: 'deferred', retryAt, error: `route "${route}" is not configured` }));
    }
    return caller.deliver(events);
  }
}
