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

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * A route breaker's transitions: logged (with the window's counts when it opens), counted, and passed on
 * (`changed`: alerts and metrics). Keeps when it last opened, which tells deferred rows when to come back.
 */
export class BreakerWatch {
  /** When the breaker last opened (ms epoch), null while closed. */
  openedAt: number | null = null;
  /** Times it opened. */
  opens = 0;

  constructor(
    breaker: CircuitBreaker,
    route: Pick<RouteConfig, 'name' | 'breaker'>,
    log: Log | undefined,
    changed: (state: BreakerState) => void,
  ) {
    breaker.on('open', () => {
      const at = (this.openedAt = Date.now());
      this.opens++;
      const { fires, failures } = breaker.stats;
      log?.warn(
        { route: route.name, breaker: 'open', windowFires: fires, windowFailures: failures },
        `breaker open: route "${route.name}" deferred until ${new Date(at + route.breaker.resetTimeoutMs).toISOString()}`,
      );
      changed('open');
    });
    breaker.on('halfOpen', () => {
      log?.info(
        { route: route.name, breaker: 'half-open', probes: route.breaker.halfOpenProbes },
        `breaker half-open: route "${route.name}" probing`,
      );
      changed('half-open');
    });
    breaker.on('close', () => {
      const openMs = this.openedAt === null ? null : Date.now() - this.openedAt;
      this.openedAt = null;
      log?.info({ route: route.name, breaker: 'closed', openMs }, `breaker closed: route "${route.name}"`);
      changed('closed');
    });
  }
}
