import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DrainObserver } from '../drain/observer';
import { ingestRegistry } from './ingest-counter';
import { sharedSnapshot, type StatusSnapshot } from './snapshot';

export interface ServiceMetrics {
  registry: Registry;
  /** Per-route delivery counters and batch durations, fed by the drain. */
  drainObserver: DrainObserver;
  /** Callout latency, fed by every RouteCaller. */
  observeCallout(route: string, seconds: number, outcome: string): void;
}

const STATES = ['pending', 'running', 'done', 'dead'] as const;
const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
const CONSUMER_STATES = ['standby', 'idle', 'running', 're-armed', 'stalled', 'stopping', 'stopped'] as const;

/**
 * The Prometheus registry of one service. Hot points (deliveries, callouts, batches) count as they
 * happen; everything else is read at scrape time from the same status document /v1/status serves.
 */
export function createServiceMetrics(status: () => Promise<unknown>): ServiceMetrics {
  const own = new Registry();
  const snap = sharedSnapshot(status);
  const registers = [own];
  collectDefaultMetrics({ register: own });

  const outcomes = {
    delivered: new Counter({
      name: 'sluice_events_delivered_total',
      help: 'Deliveries that succeeded, by route',
      labelNames: ['route'],
      registers,
    }),
    failed: new Counter({
      name: 'sluice_events_failed_total',
      help: 'Delivery attempts that failed and will be retried, by route',
      labelNames: ['route'],
      registers,
    }),
    dead: new Counter({
      name: 'sluice_events_dead_lettered_total',
      help: 'Rows that became dead letters, by route',
      labelNames: ['route'],
      registers,
    }),
    deferred: new Counter({
      name: 'sluice_events_deferred_total',
      help: 'Rows put back unattempted because the route breaker was open, by route',
      labelNames: ['route'],
      registers,
    }),
  };
  const batchSeconds = new Histogram({
    name: 'sluice_drain_batch_duration_seconds',
    help: 'Time to deliver and settle one claimed batch (claim to its last row settled)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const batchSize = new Histogram({
    name: 'sluice_drain_batch_size',
    help: 'Rows per claimed batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 5000],
    registers,
  });
  const callout = new Histogram({
    name: 'sluice_callout_duration_seconds',
    help: 'HTTP callout latency by route and outcome (2xx..5xx, error)',
    labelNames: ['route', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: StatusSnapshot) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        this.reset();
        fill(this, await snap());
      },
    });

  gauge('sluice_queue_depth', 'Queue rows by route and state', ['route', 'state'], (g, s) => {
    for (const [route, byState] of Object.entries(s.queue?.byRoute ?? {}))
      for (const state of STATES) g.set({ route, state }, byState[state] ?? 0);
  });
  gauge('sluice_queue_oldest_pending_age_seconds', 'Age of the oldest pending row (0: none)', [], (g, s) =>
    g.set((s.queue?.oldestPendingAgeMs ?? 0) / 1000),
  );
  gauge('sluice_capture_backlog_changes', 'Trigger captures not yet fanned out into events', [], (g, s) =>
    g.set(s.capture?.backlog?.changes ?? 0),
  );
  gauge('sluice_relay_lag_events', 'Committed changes not yet published to Kafka', [], (g, s) =>
    g.set(s.relay?.lag?.unpublished ?? 0),
  );
  gauge('sluice_relay_lag_seconds', 'Age of the oldest unpublished change (0: none)', [], (g, s) =>
    g.set((s.relay?.lag?.oldestUnpublishedAgeMs ?? 0) / 1000),
  );
  gauge('sluice_relay_enabled', '1 when the Kafka leg is on', [], (g, s) => g.set(s.relay?.enabled ? 1 : 0));
  gauge(
    'sluice_drain_leader',
    '1 while this process holds the coordinator lease (relay, planner, recovery sweeps)',
    [],
    (g, s) => g.set(s.consumer?.role === 'leader' ? 1 : 0),
  );
  gauge('sluice_drain_lanes_held', 'Lanes of the queue this process drains now', [], (g, s) =>
    g.set(s.consumer?.lanes?.held?.length ?? 0),
  );
  gauge('sluice_drain_state', 'Drain consumer state (1 for the current one)', ['state'], (g, s) => {
    for (const state of CONSUMER_STATES) g.set({ state }, s.consumer?.state === state ? 1 : 0);
  });
  gauge(
    'sluice_drain_batch_work',
    'Work of the batches running now: rows claimed, callouts started, callouts finished',
    ['kind'],
    (g, s) => {
      const active = s.consumer?.batches?.active ?? [];
      g.set(
        { kind: 'claimed' },
        active.reduce((n, b) => n + b.size, 0),
      );
      g.set(
        { kind: 'started' },
        active.reduce((n, b) => n + b.started, 0),
      );
      g.set(
        { kind: 'finished' },
        active.reduce((n, b) => n + b.finished, 0),
      );
    },
  );
  gauge('sluice_drain_batches_active', 'Batches claimed and not yet fully settled', [], (g, s) =>
    g.set(s.consumer?.batches?.active?.length ?? 0),
  );
  gauge('sluice_drain_oldest_batch_age_seconds', 'Age of the oldest running batch (0: none)', [], (g, s) =>
    g.set(Math.max(0, ...(s.consumer?.batches?.active ?? []).map((b) => b.ageMs)) / 1000),
  );
  gauge(
    'sluice_drain_stalled',
    '1 while the watchdog finds the drain stalled (see /readyz and the log)',
    [],
    (g, s) => g.set(s.consumer?.stalled ? 1 : 0),
  );
  gauge('sluice_drain_in_flight', 'Claimed rows this process has not settled yet', [], (g, s) =>
    g.set(s.consumer?.inFlight ?? 0),
  );
  gauge(
    'sluice_breaker_state',
    'Breaker state per route (1 for the current one)',
    ['route', 'state'],
    (g, s) => {
      for (const [route, b] of Object.entries(s.breakers ?? {}))
        for (const state of BREAKER_STATES) g.set({ route, state }, b.state === state ? 1 : 0);
    },
  );
  gauge('sluice_callout_in_flight', 'Callouts in flight per route', ['route'], (g, s) => {
    for (const [route, b] of Object.entries(s.breakers ?? {})) g.set({ route }, b.inFlight ?? 0);
  });
  gauge('sluice_planner_slots', 'Planner process slots: max and active', ['kind'], (g, s) => {
    const p = s.planner;
    if (typeof p?.maxActive === 'number') g.set({ kind: 'max' }, p.maxActive);
    if (typeof p?.active === 'number') g.set({ kind: 'active' }, p.active);
  });
  new Counter({
    name: 'sluice_events_published_total',
    help: 'Changes published to Kafka by this process',
    registers,
    async collect() {
      this.reset();
      this.inc((await snap()).relay?.published ?? 0);
    },
  });
  new Counter({
    name: 'sluice_drain_rearms_total',
    help: 'Batches claimed right after another without going idle (re-armed)',
    registers,
    async collect() {
      this.reset();
      this.inc((await snap()).consumer?.batches?.rearms ?? 0);
    },
  });
  new Counter({
    name: 'sluice_drain_batches_total',
    help: 'Claimed batches this process has drained (every row settled or handed back)',
    registers,
    async collect() {
      this.reset();
      this.inc((await snap()).consumer?.batches?.finished ?? 0);
    },
  });
  new Counter({
    name: 'sluice_drain_batches_started_total',
    help: 'Batches this process has claimed',
    registers,
    async collect() {
      this.reset();
      this.inc((await snap()).consumer?.batches?.started ?? 0);
    },
  });

  const drainObserver: DrainObserver = {
    // Batch size and duration are per claim; a settle flush is a bulk write that may span claims.
    batchStarted(b) {
      batchSize.observe(b.size);
    },
    batchFinished(b) {
      batchSeconds.observe(b.ageMs / 1000);
    },
    batchSettled(pairs, s) {
      const failures = new Map(s.failures.map((f) => [f.id, f]));
      for (const { event, outcome } of pairs) {
        const route = event.route;
        if (outcome.kind === 'success') outcomes.delivered.inc({ route });
        else if (outcome.kind === 'deferred') outcomes.deferred.inc({ route });
        else if (failures.get(event.id)?.dead) outcomes.dead.inc({ route });
        else outcomes.failed.inc({ route });
      }
    },
  };

  return {
    registry: Registry.merge([own, ingestRegistry]),
    drainObserver,
    observeCallout: (route, seconds, outcome) => callout.observe({ route, outcome }, seconds),
  };
}
