import CircuitBreaker from 'opossum';
import type { RouteConfig } from '../config/route-schema';
import { classifyFailure } from './classify';

export type BreakerState = 'closed' | 'open' | 'half-open';

export { HttpStatusError } from './classify';

/**
 * One named breaker per route, opening on its rolling error rate. Failures we class as permanent (4xx other
 * than 408/429, a bad request) are the caller's mistake, not the endpoint's, so errorFilter keeps them
 * from counting. Timeouts are enforced per request by the HTTP client (undici destroys the socket, see
 * http-client.ts), so opossum's own timer is off: its single shared abortController would cancel every
 * request in flight, and its timeout would leave the request itself running.
 * Half-open probing is done by RouteCaller (opossum lets exactly one call through), see probe-gate.ts.
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
    errorFilter: (err: unknown) => classifyFailure(err).kind === 'permanent',
    // Latency percentiles would sort every window's latencies; metrics get latencies from onCallout instead.
    rollingPercentilesEnabled: false,
  });
}

export function breakerState(b: CircuitBreaker): BreakerState {
  if (b.opened) return 'open';
  if (b.halfOpen) return 'half-open';
  return 'closed';
}
