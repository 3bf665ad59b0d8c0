import type { BatchView } from './batch';
import type { LaneView } from './lane-keeper';
import type { SettledEvent } from './settler';

export type ConsumerState = 'standby' | 'idle' | 'running' | 're-armed' | 'stalled' | 'stopping' | 'stopped';

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
  /**
   * The longest a finished callout waits for others so their outcomes go out in one statement, ms (25); a
   * flush goes at once when nothing else is in flight or 100 outcomes wait.
   */
  settleDelayMs?: number;
  /** Rows claimable and nothing settled (nor claimed) for this long: the drain is stalled, ms (30 s). */
  stallAfterMs?: number;
  /** Record every attempt in sluice_attempt (true); the failure clocks are kept either way. */
  attemptLog?: boolean;
}

export type DrainAlert =
  | { kind: 'batch-slow'; batch: BatchView; warnAfterMs: number }
  | { kind: 'batch-stopped'; batch: BatchView; stopAfterMs: number; released: number }
  | { kind: 'stalled'; reason: string; sinceMs: number };

export interface DeadLetterInfo {
  id: string;
  eventId: string;
  route: string;
  attempts: number;
  error: string;
  status: number | null;
}

/** Typed lifecycle events, so alerts, metrics and dashboards are wired without reading logs. */
export interface DrainEvents {
  state: [ConsumerState];
  batchStarted: [BatchView];
  batchFinished: [BatchView];
  /** Every settle: each row's outcome (the one source for metrics, logs, alerts and stats). */
  settled: [SettledEvent];
  alert: [DrainAlert];
  deadLettered: [DeadLetterInfo];
  /** The watchdog's verdict changed: a reason while stalled, null once the drain moves again. */
  stall: [string | null];
}

export interface DrainStats {
  state: ConsumerState;
  /** 'leader': this instance holds the coordinator lease (recovery sweeps, relay, planner). */
  role: 'leader' | 'standby';
  term: number | null;
  /** The lanes this instance holds and the instances it sees. */
  lanes: LaneView;
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
  /** Why the watchdog says the drain is stalled, or null. */
  stalled: string | null;
}

export type DrainLog = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
};
