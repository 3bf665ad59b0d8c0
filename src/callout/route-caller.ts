import type { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import type CircuitBreaker from 'opossum';
import type { Connector, DeliveryEvent, Outcome } from '../../connectors/types';
import type { RouteConfig } from '../config/route-schema';
import { Semaphore } from '../lib/semaphore';
import { breakerState, createBreaker, HttpStatusError, type BreakerState } from './breaker';
import { classifyError, classifyResponse } from './classify';
import { createHttpClient } from './http-client';

/** An outcome, or "not tried: the breaker is open, come back at `retryAt`". */
export type CalloutOutcome = Outcome | { kind: 'deferred'; retryAt: Date; error: string };

export interface RouteCallerStats {
  inFlight: number;
  calls: number;
  failures: number;
  breaker: BreakerState;
  openedAt: number | null;
}

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/** Delivers a route's events: connector request building, concurrency cap, breaker, classification. */
export class RouteCaller {
  private readonly http: AxiosInstance;
  private readonly breaker: CircuitBreaker<[AxiosRequestConfig], AxiosResponse>;
  private readonly limit: Semaphore;
  /** Events per request (the connector's batch size for this route). */
  readonly batch: number;
  private openedAt: number | null = null;
  private calls = 0;
  private failures = 0;
  /** Metrics hook: every HTTP request's latency and outcome (`2xx`..`5xx`, `error`). */
  onCallout: ((route: string, seconds: number, outcome: string) => void) | null = null;

  constructor(
    readonly route: RouteConfig,
    private readonly connector: Connector<unknown>,
    private readonly options: unknown,
    log?: Log,
  ) {
    this.http = createHttpClient(route.concurrency, route.breaker.timeoutMs);
    this.limit = new Semaphore(route.concurrency);
    this.batch = Math.max(1, Math.min(connector.maxBatch ?? 1, route.batchSize ?? connector.maxBatch ?? 1));
    this.breaker = createBreaker(route.name, route.breaker, (config: AxiosRequestConfig) =>
      this.send(config),
    );
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
      log?.warn({ route: route.name }, 'breaker open');
    });
    this.breaker.on('halfOpen', () => log?.info({ route: route.name }, 'breaker half-open'));
    this.breaker.on('close', () => {
      this.openedAt = null;
      log?.info({ route: route.name }, 'breaker closed');
    });
  }

  get stats(): RouteCallerStats {
    return {
      inFlight: this.limit.inUse,
      calls: this.calls,
      failures: this.failures,
      breaker: breakerState(this.breaker),
      openedAt: this.openedAt,
    };
  }

  /** One outcome per event, same order. Never throws. */
  async deliver(events: DeliveryEvent[]): Promise<CalloutOutcome[]> {
    const chunks: DeliveryEvent[][] = [];
    for (let i = 0; i < events.length; i += this.batch) chunks.push(events.slice(i, i + this.batch));
    const results = await Promise.all(chunks.map((chunk) => this.limit.run(() => this.deliverChunk(chunk))));
    return results.flat();
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private async send(config: AxiosRequestConfig): Promise<AxiosResponse> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const res = await this.http.request({
        ...config,
        signal: AbortSignal.timeout(this.route.breaker.timeoutMs),
      });
      outcome = `${Math.floor(res.status / 100)}xx`;
      if (res.status < 200 || res.status >= 300) throw new HttpStatusError(res);
      return res;
    } finally {
      this.onCallout?.(this.route.name, (performance.now() - started) / 1000, outcome);
    }
  }

  private async deliverChunk(events: DeliveryEvent[]): Promise<CalloutOutcome[]> {
    if (this.breaker.opened) return events.map(() => this.deferred());
    let config: AxiosRequestConfig;
    try {
      config = this.connector.buildRequest(events, this.options);
    } catch (err) {
      return events.map(() => ({
        kind: 'permanent',
        status: null,
        error: `connector: ${(err as Error).message}`,
      }));
    }
    config.headers = {
      ...(config.headers as Record<string, string>),
      // Receivers dedupe on this: delivery is at-least-once. A batch carries its first event's key.
      'idempotency-key': `${events[0].eventId}:${this.route.name}`,
    };
    this.calls++;
    try {
      const res = await this.breaker.fire(config);
      if (this.connector.readResponse) return this.connector.readResponse(events, res, this.options);
      return events.map(() => ({ kind: 'success', status: res.status }));
    } catch (err) {
      this.failures++;
      const e = err as { code?: string };
      if (e?.code === 'EOPENBREAKER') return events.map(() => this.deferred());
      const outcome = err instanceof HttpStatusError ? classifyResponse(err.response) : classifyError(err);
      return events.map(() => outcome);
    }
  }

  private deferred(): CalloutOutcome {
    const retryAt = new Date((this.openedAt ?? Date.now()) + this.route.breaker.resetTimeoutMs);
    return { kind: 'deferred', retryAt, error: `breaker open for route ${this.route.name}` };
  }
}
