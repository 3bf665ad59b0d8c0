import { isAxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type CircuitBreaker from 'opossum';
import type { Connector, DeliveryEvent } from '../../connectors/types';
import type { RouteConfig } from '../config/route-schema';
import { Semaphore } from '../lib/semaphore';
import { BreakerWatch, breakerState, createBreaker } from './breaker';
import { chunkEvents } from './chunks';
import { classifyFailure, excerpt, HttpStatusError } from './classify';
import { closeHttpClient, createHttpClient } from './http-client';
import { ProbeGate, type Admission } from './probe-gate';
import { EXCERPT_MAX, timed, type CalloutOutcome } from './outcome';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import type { RouteCallerHooks, RouteCallerStats } from './route-caller-types';

export type { RouteCallerHooks, RouteCallerStats } from './route-caller-types';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * Delivers a route's events: groups and chunks them for the connector, caps concurrency, applies the
 * rate limit, sends through the breaker with a per-request timeout, and classifies what came back.
 */
export class RouteCaller {
  private readonly http: AxiosInstance;
  private readonly breaker: CircuitBreaker<[AxiosRequestConfig], AxiosResponse>;
  private readonly gate: ProbeGate;
  private readonly slots: Semaphore;
  private readonly rate: RateLimiter | null;
  private readonly share: () => number;
  /** Events per request (the connector's batch size for this route). */
  readonly batch: number;
  private closed = false;
  private readonly counters = {
    inFlight: 0,
    calls: 0,
    failures: 0,
    timeouts: 0,
    rejections: 0,
    deferred: 0,
    probes: 0,
  };
  private readonly watch: BreakerWatch;
  /** Metrics hook: every HTTP request's latency and outcome (`2xx`..`5xx`, `error`). */
  onCallout: ((route: string, seconds: number, outcome: string) => void) | null = null;

  constructor(
    readonly route: RouteConfig,
    private readonly connector: Connector<unknown>,
    private readonly options: unknown,
    log?: Log,
    hooks: RouteCallerHooks = {},
  ) {
    this.http = createHttpClient(route.concurrency, route.breaker.timeoutMs);
    const share = () => Math.min(1, hooks.share?.() ?? 1);
    this.share = share;
    this.slots = new Semaphore(() => this.concurrency);
    const perSecond = route.rateLimit?.perSecond;
    this.rate = perSecond ? createRateLimiter(() => perSecond * share()) : null;
    this.batch = Math.max(1, Math.min(connector.maxBatch ?? 1, route.batchSize ?? Infinity));
    this.breaker = createBreaker(route.name, route.breaker, (config: AxiosRequestConfig) =>
      this.send(config),
    );
    this.gate = new ProbeGate(this.breaker, route.breaker.halfOpenProbes);
    this.watch = new BreakerWatch(this.breaker, route, log, (state) =>
      hooks.onBreakerChange?.(route.name, state, this.stats),
    );
  }

  /**
   * Requests this instance may have on the wire at once: its share of the route's concurrency, rounded
   * down, and at least 1 (so a route's rows in this instance's lanes are never stuck; with fewer
   * concurrency slots than instances, that floor is the one way the endpoint can see more).
   */
  get concurrency(): number {
    return Math.max(1, Math.floor(this.route.concurrency * this.share() + 1e-9));
  }

  get stats(): RouteCallerStats {
    const state = breakerState(this.breaker);
    return {
      state,
      breaker: state,
      ...this.counters,
      opens: this.watch.opens,
      queued: this.slots.waiting + (this.rate?.queued ?? 0),
      openedAt: this.watch.openedAt,
      nextAttemptAt:
        state === 'open' && this.watch.openedAt !== null
          ? this.watch.openedAt + this.route.breaker.resetTimeoutMs
          : null,
    };
  }

  /** One outcome per event, same order. Never throws (nor rejects). */
  deliver(events: DeliveryEvent[]): Promise<CalloutOutcome[]> {
    // The common case, kept lean: one event, one request, no async frame of its own.
    if (events.length === 1) return this.deliverChunk(events);
    return this.deliverMany(events);
  }

  private async deliverMany(events: DeliveryEvent[]): Promise<CalloutOutcome[]> {
    const outcomes = new Array<CalloutOutcome>(events.length);
    const key = this.connector.groupKey;
    const chunks = chunkEvents(events, this.batch, key && ((e) => key(e, this.options)));
    await Promise.all(
      chunks.map(async (c) => {
        const results = await this.deliverChunk(c.events);
        c.at.forEach((k, j) => (outcomes[k] = results[j]));
      }),
    );
    return outcomes;
  }

  /** Stops the breaker's timer, cancels requests waiting, destroys every socket (in-flight requests fail). */
  async shutdown(): Promise<void> {
    this.closed = true;
    this.breaker.shutdown();
    await this.rate?.stop();
    await closeHttpClient(this.http);
  }

  private async send(config: AxiosRequestConfig): Promise<AxiosResponse> {
    if (this.closed) throw Object.assign(new Error('route caller shut down'), { code: 'ESHUTDOWN' });
    const started = performance.now();
    let outcome = 'error';
    this.counters.calls++;
    this.counters.inFlight++;
    try {
      const res = await this.http.request(config);
      outcome = `${Math.floor(res.status / 100)}xx`;
      if (res.status < 200 || res.status >= 300) throw new HttpStatusError(res);
      return res;
    } catch (err) {
      this.counters.failures++;
      if (isAxiosError(err) && err.code === 'ETIMEDOUT') {
        this.counters.timeouts++;
        throw Object.assign(new Error(`timed out after ${this.route.breaker.timeoutMs} ms`), {
          code: 'ETIMEDOUT',
        });
      }
      throw err;
    } finally {
      this.counters.inFlight--;
      this.onCallout?.(this.route.name, (performance.now() - started) / 1000, outcome);
    }
  }

  /** Not async (one promise less per request): every path returns a promise, and none throws. */
  private deliverChunk(events: DeliveryEvent[]): Promise<CalloutOutcome[]> {
    // Fast path: an open breaker defers without waiting for a slot.
    if (this.breaker.opened) return Promise.resolve(this.deferAll(events));
    let config: AxiosRequestConfig;
    try {
      config = this.connector.buildRequest(events, this.options);
    } catch (err) {
      const error = `connector ${this.connector.name}: ${(err as Error).message}`;
      return Promise.resolve(events.map((): CalloutOutcome => ({ kind: 'permanent', status: null, error })));
    }
    config.headers = {
      ...(config.headers as Record<string, string>),
      // Receivers dedupe on this: delivery is at-least-once. A batch carries its first event's key.
      'idempotency-key': `${events[0].eventId}:${this.route.name}`,
    };
    const rate = this.rate;
    return this.slots.run(
      rate ? () => rate.schedule(() => this.attempt(events, config)) : () => this.attempt(events, config),
    );
  }

  /** Admission and the request in one synchronous step, so the breaker cannot change in between. */
  private async attempt(events: DeliveryEvent[], config: AxiosRequestConfig): Promise<CalloutOutcome[]> {
    const admission: Admission = this.gate.admit();
    if (admission === 'defer') return this.deferAll(events);
    if (admission === 'probe') this.counters.probes++;
    const startedAt = Date.now();
    try {
      const res = await (admission === 'probe' ? this.send(config) : this.breaker.fire(config));
      if (admission === 'probe') this.gate.settle(true);
      return this.answered(events, res, startedAt);
    } catch (err) {
      if ((err as { code?: string })?.code === 'EOPENBREAKER') return this.deferAll(events);
      const outcome = classifyFailure(err);
      if (admission === 'probe') {
        this.gate.settle(outcome.kind === 'permanent');
        // A failed probe is the breaker's test of the endpoint, not this row's fault: it waits for the
        // next half-open like the rest, without spending an attempt (or an outage would dead-letter it).
        if (outcome.kind === 'retriable')
          return timed(this.deferred(events, `probe failed: ${outcome.error}`), startedAt);
      }
      return timed(
        events.map(() => outcome),
        startedAt,
      );
    }
  }

  /**
   * A 2xx response -> timed outcomes: success for all (one object per event, built once: this is every
   * delivered event's path), or the connector's per-record reading.
   */
  private answered(events: DeliveryEvent[], res: AxiosResponse, startedAt: number): CalloutOutcome[] {
    const body = excerpt(res.data, EXCERPT_MAX);
    if (this.connector.readResponse) return timed(this.read(events, res), startedAt, body);
    const ms = Date.now() - startedAt;
    const status = res.status;
    const out = new Array<CalloutOutcome>(events.length);
    for (let i = 0; i < events.length; i++)
      out[i] = body
        ? { kind: 'success', status, startedAt, ms, excerpt: body }
        : { kind: 'success', status, startedAt, ms };
    return out;
  }

  /** A 2xx response -> the connector's per-record reading (a response it cannot read: permanent). */
  private read(events: DeliveryEvent[], res: AxiosResponse): CalloutOutcome[] {
    try {
      return this.connector.readResponse!(events, res, this.options);
    } catch (err) {
      const error = `connector ${this.connector.name}: cannot read the response: ${(err as Error).message}`;
      return events.map(() => ({ kind: 'permanent', status: res.status, error }));
    }
  }

  private deferAll(events: DeliveryEvent[]): CalloutOutcome[] {
    this.counters.rejections++;
    return this.deferred(events, 'breaker open');
  }

  private deferred(events: DeliveryEvent[], why: string): CalloutOutcome[] {
    this.counters.deferred += events.length;
    const now = Date.now();
    const { resetTimeoutMs, timeoutMs } = this.route.breaker;
    // Open: until it goes half-open. Half-open with the probes out: until they have had time to answer.
    // Never in the past, or the consumer would claim the same rows again at once.
    const at =
      this.breaker.opened && this.watch.openedAt !== null
        ? this.watch.openedAt + resetTimeoutMs
        : now + Math.min(timeoutMs, resetTimeoutMs);
    const retryAt = new Date(Math.max(at, now + 50));
    const error = `${why} (route ${this.route.name}): deferred until ${retryAt.toISOString()}`;
    return events.map(() => ({ kind: 'deferred', retryAt, error }));
  }
}
