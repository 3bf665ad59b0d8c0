import type { BreakerState } from './breaker';

/** What a RouteCaller reports of itself (status, dashboard, metrics). */
export interface RouteCallerStats {
  state: BreakerState;
  /** Same as `state` (older name). */
  breaker: BreakerState;
  /** Requests on the wire now. */
  inFlight: number;
  /** Requests waiting for a concurrency slot or a rate-limit token. */
  queued: number;
  /** Requests sent (probes included). */
  calls: number;
  /** Requests that failed: no 2xx (transport error, timeout or non-2xx status). */
  failures: number;
  timeouts: number;
  /** Requests not sent because the breaker was open (their events deferred). */
  rejections: number;
  /** Events deferred by the breaker. */
  deferred: number;
  /** Half-open probe requests sent. */
  probes: number;
  /** Times the breaker opened. */
  opens: number;
  /** When the breaker last opened (ms epoch), null while closed. */
  openedAt: number | null;
  /** While open: when it goes half-open and lets probes through (ms epoch). */
  nextAttemptAt: number | null;
}

/** Typed lifecycle hooks: breaker transitions, for logs, alerts and metrics. */
export interface RouteCallerHooks {
  onBreakerChange?(route: string, state: BreakerState, stats: RouteCallerStats): void;
  /**
   * This instance's share (0-1] of every route's concurrency and rate limit (the lanes it holds of all),
   * read live; 1 when absent. The shares of all instances add up to at most 1.
   */
  share?(): number;
}
