import type { Outcome } from '../../connectors/types';

/** When a request went out and how long it took; what the attempt log records (absent: not sent). */
export interface AttemptTiming {
  /** ms epoch when the request was sent (or the deferral decided). */
  startedAt?: number;
  ms?: number;
  /** A bounded excerpt of a 2xx response's body (failures carry theirs in `response`). */
  excerpt?: string;
}

/** An outcome, or "not tried: the breaker is open, come back at `retryAt`" (the attempt is not spent). */
export type CalloutOutcome = (Outcome | { kind: 'deferred'; retryAt: Date; error: string }) & AttemptTiming;

/** Response excerpts kept per attempt, characters. */
export const EXCERPT_MAX = 512;

/** Stamps outcomes with their request's start and duration (one request may answer for several events). */
export function timed(outcomes: CalloutOutcome[], startedAt: number, body?: string): CalloutOutcome[] {
  const ms = Date.now() - startedAt;
  return outcomes.map((o) => ({
    ...o,
    startedAt,
    ms,
    ...(body && o.kind === 'success' && { excerpt: body }),
  }));
}
