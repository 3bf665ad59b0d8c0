import type { Pool } from 'pg';
import type { RouteCaller } from '../callout/route-caller';
import type { CaptureFanOut } from '../capture/fan-out';
import { captureBacklog } from '../db/capture/backlog';
import { lanesStatus } from '../db/lease/lane-sql';
import { relayLag } from '../db/outbox/lag';
import { failureClocks } from '../db/routes/route-health';
import { queueCounts } from '../db/queue/counts';
import type { Drain } from '../drain/drain';
import type { Pruner } from '../drain/pruner';
import type { Planner } from '../planner/planner';
import type { RouteRegistry } from '../routes/registry';
import type { OutboxRelay } from '../relay/outbox-relay';

export interface StatusSources {
  pool: Pool;
  instance: string;
  drain: Drain;
  pruner?: Pruner;
  relay: OutboxRelay | null;
  fanOut?: CaptureFanOut;
  kafkaBrokers: string[] | null;
  callers: Map<string, RouteCaller>;
  /** Paused and out-of-window routes, and when each window next opens. */
  routes?: RouteRegistry;
  planner: Planner;
}

/** The /v1/status document. Secrets (route options, keys) never appear here. */
export async function buildStatus(s: StatusSources) {
  const [queue, lag, backlog, planner, lanes, clocks] = await Promise.all([
    queueCounts(s.pool),
    relayLag(s.pool),
    captureBacklog(s.pool),
    s.planner.status(),
    lanesStatus(s.pool),
    failureClocks(s.pool),
  ]);
  const breakers: Record<string, unknown> = {};
  for (const [name, caller] of s.callers) {
    const { breaker: _alias, openedAt, nextAttemptAt, ...st } = caller.stats;
    breakers[name] = {
      ...st,
      openedAt: openedAt === null ? null : new Date(openedAt).toISOString(),
      nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
    };
  }
  const now = new Date();
  const routes: Record<string, unknown> = {};
  const failing: string[] = [];
  for (const v of s.routes?.views(now, clocks) ?? []) {
    routes[v.name] = {
      origin: v.origin,
      closed: v.closed,
      paused: v.paused,
      ...(v.paused && { pausedAt: v.pausedAt, pausedBy: v.pausedBy }),
      ...(v.window && { window: v.window }),
      ...(v.failing && { failing: v.failing }),
    };
    if (v.failing && !v.paused)
      failing.push(
        `route ${v.name} has failed every attempt since ${v.failing.since}` +
          (v.failing.disablesAt ? `: auto-disable pauses it at ${v.failing.disablesAt}` : ''),
      );
  }
  const closed = Object.entries(routes).filter(([, r]) => (r as { closed: unknown }).closed);
  return {
    instance: s.instance,
    time: new Date().toISOString(),
    // What an operator should fix; the dashboard shows each one.
    warnings: [
      ...(s.callers.size === 0
        ? [
            'no routes configured: changes are accepted and published, but delivered nowhere (add routes to the route file or POST /v1/routes)',
          ]
        : []),
      ...closed
        .filter(([, r]) => (r as { paused: boolean }).paused)
        .map(([name]) => `route ${name} is paused: its rows wait until it is resumed`),
      ...failing,
    ],
    queue: { ...queue.byState, oldestPendingAgeMs: queue.oldestPendingAgeMs, byRoute: queue.byRoute },
    // Trigger captures committed but not yet turned into events (normally a few milliseconds' worth).
    capture: { ...s.fanOut?.stats, backlog },
    consumer: { ...s.drain.stats, ...(s.pruner && { pruned: s.pruner.stats }) },
    // Every live instance and the lanes it holds, and each lane's holder and backlog (all instances see the same).
    lanes,
    relay: s.relay
      ? { enabled: true, brokers: s.kafkaBrokers, ...s.relay.stats, lag }
      : {
          enabled: false,
          reason: 'no Kafka brokers configured (KAFKA_BROKERS unset and no local broker)',
          lag,
        },
    breakers,
    // Every route's state: closed is 'paused', 'window' (outside its delivery window) or null.
    routes,
    planner,
  };
}
