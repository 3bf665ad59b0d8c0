import type { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { unblockOrphans } from '../db/queue/settle-rows';
import type { ClaimWindow, WindowProgress } from './claim-window';
import type { LaneKeeper } from './lane-keeper';
import type { DrainEvents, DrainLog } from './types';

export interface WatchedDrain {
  /** It holds lanes it may claim from (an instance without lanes has nothing to stall on). */
  holdsLanes: boolean;
  progress: WindowProgress;
  inFlight: number;
  /** When the settler's running flush began, or null. */
  settleStartedAt: number | null;
}

/**
 * Why the drain is stalled, or null: it holds lanes, work is known to be waiting (the last claim was full or
 * failed, or rows are in flight), and nothing was claimed or settled for `stallAfterMs`. The reason
 * names what it waits for and since when: a query (claim or settle) or the callouts of rows in flight.
 */
export function stallReason(d: WatchedDrain, stallAfterMs: number, now = Date.now()): string | null {
  const p = d.progress;
  if (!d.holdsLanes) return null;
  const idleMs = now - p.lastProgressAt;
  if (idleMs < stallAfterMs) return null;
  if (!p.backlog && d.inFlight === 0) return null;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (p.claimStartedAt !== null && now - p.claimStartedAt >= stallAfterMs)
    return `claim query running for ${s(now - p.claimStartedAt)}`;
  if (d.settleStartedAt !== null && now - d.settleStartedAt >= stallAfterMs)
    return `settle query running for ${s(now - d.settleStartedAt)}`;
  if (p.lastError !== null) return `claim failing (${p.failures} in a row); nothing claimed for ${s(idleMs)}`;
  if (d.inFlight > 0) return `${d.inFlight} rows in flight and none settled for ${s(idleMs)}`;
  return `rows waiting and nothing claimed for ${s(idleMs)}`;
}

export interface WatchdogDeps {
  /** The drain's pool: the stuck queries are its connections' (same application_name). */
  pool: Pool;
  lanes: LaneKeeper;
  window: ClaimWindow;
  /** When the settler's running flush began, or null. */
  settleStartedAt: () => number | null;
  /** The drain: `alert` and `stall` go out on it. */
  events: EventEmitter<DrainEvents>;
  log: DrainLog;
}

/**
 * The watchdog. On a stall: one error line naming what the drain waits for, the `stall` event (metric,
 * /readyz), the consumer shown as stalled, then healing: the stuck drain queries are cancelled,
 * event_queue's statistics refreshed (a plan picked on stale ones was the field's cause) and parked
 * rows repaired. Stalled for twice as long: its lanes are given up so another instance can try.
 */
export class Watchdog {
  private stall: { reason: string; since: number; resigned: boolean } | null = null;
  /** How often check() should run. */
  readonly everyMs: number;

  constructor(
    private readonly d: WatchdogDeps,
    private readonly stallAfterMs: number,
  ) {
    this.everyMs = Math.max(50, Math.min(1000, stallAfterMs / 4));
  }

  /** Why the drain is stalled, or null. */
  get reason(): string | null {
    return this.stall?.reason ?? null;
  }

  check(): void {
    const { window, lanes, events, log } = this.d;
    if (window.state === 'stopping' || window.state === 'stopped') return;
    const reason = stallReason(
      {
        holdsLanes: lanes.active,
        progress: window.progress,
        inFlight: window.inFlight.size,
        settleStartedAt: this.d.settleStartedAt(),
      },
      this.stallAfterMs,
    );
    if (reason === null) {
      if (this.stall) {
        log.info({ stalledForMs: Date.now() - this.stall.since }, 'drain moving again');
        this.stall = null;
        events.emit('stall', null);
        window.stalled(false);
      }
      return;
    }
    if (!this.stall) {
      this.stall = { reason, since: Date.now(), resigned: false };
      log.error(
        { reason, lastError: window.progress.lastError, stallAfterMs: this.stallAfterMs },
        'drain stalled',
      );
      events.emit('alert', { kind: 'stalled', reason, sinceMs: this.stallAfterMs });
      events.emit('stall', reason);
      window.stalled(true);
      void this.heal();
    } else if (this.stall.reason !== reason) {
      this.stall.reason = reason;
      events.emit('stall', reason);
    }
    if (!this.stall.resigned && Date.now() - this.stall.since >= this.stallAfterMs) {
      this.stall.resigned = true;
      log.error({ reason }, 'drain still stalled; giving its lanes up so the other instances can try');
      void lanes.resign();
    }
  }

  private async heal(): Promise<void> {
    const { pool, log } = this.d;
    try {
      const cancelled = await pool.query(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
          WHERE application_name = current_setting('application_name') AND pid <> pg_backend_pid()
            AND datname = current_database() AND state = 'active'
            AND query_start < now() - make_interval(secs => $1::float8 / 1000)`,
        [this.stallAfterMs / 2],
      );
      await pool.query('ANALYZE event_queue');
      const unblocked = await unblockOrphans(pool);
      log.warn(
        { cancelled: cancelled.rowCount, unblocked },
        'drain stall: stuck queries cancelled, statistics refreshed',
      );
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'drain stall: healing failed');
    }
  }
}
