import CircuitBreaker from 'opossum';
import type { RouteConfig } from '../config/route-schema';
import { isRetriableStatus } from './classify';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Thrown inside the breaker for a non-2xx response, so opossum can count it (or not, see errorFilter). */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(readonly response: { status: number; headers: Record<string, unknown>; data: unknown }) {
    super(`HTTP ${response.status}`);
  }
}

/**
 * One named breaker per route. Caller mistakes (4xx other than 408/429) are not the endpoint's fault,
 * so errorFilter keeps them from opening it. Timeouts are enforced by the HTTP request itself
 * (AbortSignal), so opossum's own timer is off.
 */
export function createBreaker<A extends unknown[], R>(
  name: string,
  cfg: RouteConfig['breaker'],
  action: (...args: A) => Promise<R>,
): CircuitBreaker<A, R> {
  return new CircuitBreaker(action, {
    name,
    timeout: false,
    errorThresholdPercentage: cfg.errorThresholdPercentage,
    resetTimeout: cfg.resetTimeoutMs,
    rollingCountTimeout: cfg.rollingCountTimeoutMs,
    volumeThreshold: cfg.volumeThreshold,
    errorFilter: (err: unknown) => err instanceof HttpStatusError && !isRetriableStatus(err.response.status),
  });
}

export function breakerState(b: CircuitBreaker): BreakerState {
  if (b.opened) return 'open';
  if (b.halfOpen) return 'half-open';
  return 'closed';
}
