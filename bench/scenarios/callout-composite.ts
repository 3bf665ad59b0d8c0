import { buildCallers } from '../../src/callout/build-callers';
import { RouteSchema, type RouteConfig } from '../../src/config/route-schema';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { benchEvents, pool } from '../lib/callout';
import { benchConsumer, enqueueBacklog } from '../lib/sluice-drain';
import type { BenchContext, Scenario } from '../lib/types';

/** The whole drain (claim, call, settle in Postgres) over a committed backlog of `rows` for one route. */
async function drainRoute(ctx: BenchContext, route: RouteConfig, rows: number) {
  const db = await ctx.freshDatabase('bench_composite');
  try {
    await syncRoutes(db.pool, [route]);
    await enqueueBacklog(db.pool, rows, { entity: 'contact', op: 'upsert', prefix: 'c-' });
    ctx.sink.reset();
    const consumer = benchConsumer(db.pool, route, 1000);
    const started = process.hrtime.bigint();
    consumer.start();
    for (;;) {
      const { rows: r } = await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`,
      );
      if (Number(r[0].n) === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await consumer.stop();
    return { perSec: rows / seconds, requests: await ctx.sink.count(), seconds };
  } finally {
    await db.drop();
  }
}

/**
 * Batching pays: the same salesforce-style route to the same sink, once with batchSize 1 (one request per
 * event) and once with the collection limit of 200 records per request, per-record results read back
 * either way. Measured twice: through the callout layer alone (events handed to the route in slices by
 * `concurrency` workers) and through the whole drain (a committed backlog claimed, called and settled in
 * Postgres), where the database's claim and settle work bounds the composite route. Goal: >= 10x.
 */
export const calloutComposite: Scenario = {
  id: 'callout-composite',
  title: 'Composite route (200 records/request) vs one request per event',
  run: async (ctx, { quick }) => {
    const route = (name: string, batchSize: number) =>
      RouteSchema.parse({
        name,
        match: { entity: 'contact' },
        connector: 'salesforce',
        options: { instanceUrl: ctx.sink.url, sObject: 'Contact', externalIdField: 'Ext__c' },
        concurrency: ctx.concurrency,
        batchSize,
      });
    const callers = buildCallers([route('single', 1), route('composite', 200)]);
    const measure = async (name: string, events: number, slice: number) => {
      const caller = callers.get(name)!;
      const all = benchEvents(events, name, 'contact');
      const slices = Array.from({ length: Math.ceil(events / slice) }, (_, i) =>
        all.slice(i * slice, (i + 1) * slice),
      );
      let failed = 0;
      ctx.sink.reset();
      const seconds = await pool(slices, ctx.concurrency, async (s) => {
        for (const o of await caller.deliver(s)) if (o.kind !== 'success') failed++;
      });
      if (failed) throw new Error(`${failed} events failed on route ${name}`);
      return { perSec: events / seconds, requests: await ctx.sink.count(), seconds };
    };
    const drained = async () => {
      const single = await drainRoute(ctx, route('single', 1), quick ? 3_000 : 10_000);
      const composite = await drainRoute(ctx, route('composite', 200), quick ? 20_000 : 100_000);
      ctx.log(
        `through the drain: one per event ${Math.round(single.perSec)}/s, composite ${Math.round(composite.perSec)}/s`,
      );
      return [
        {
          id: 'drain-single-per-event',
          name: `drain of a salesforce-style route, batchSize 1 (concurrency ${ctx.concurrency})`,
          unit: 'events/s',
          value: Math.round(single.perSec),
          detail: { requests: single.requests, seconds: Number(single.seconds.toFixed(3)) },
        },
        {
          id: 'drain-composite',
          name: `drain of a salesforce-style composite route, 200 records/request (concurrency ${ctx.concurrency})`,
          unit: 'events/s',
          value: Math.round(composite.perSec),
          compareTo: ['drain-single-per-event', 'limit-pg-update'],
          detail: { requests: composite.requests, seconds: Number(composite.seconds.toFixed(3)) },
        },
      ];
    };
    try {
      const single = await measure('single', quick ? 4_000 : 15_000, 1);
      const composite = await measure('composite', quick ? 40_000 : 150_000, 200);
      ctx.log(
        `one per event ${Math.round(single.perSec)}/s (${single.requests} requests), composite ${Math.round(composite.perSec)}/s (${composite.requests} requests)`,
      );
      return [
        ...(await drained()),
        {
          id: 'callout-single-per-event',
          name: `salesforce-style route, batchSize 1 (concurrency ${ctx.concurrency})`,
          unit: 'events/s',
          value: Math.round(single.perSec),
          detail: { requests: single.requests, seconds: Number(single.seconds.toFixed(3)) },
        },
        {
          id: 'callout-composite',
          name: `salesforce-style composite route, 200 records/request (concurrency ${ctx.concurrency})`,
          unit: 'events/s',
          value: Math.round(composite.perSec),
          compareTo: ['callout-single-per-event'],
          detail: { requests: composite.requests, seconds: Number(composite.seconds.toFixed(3)) },
        },
      ];
    } finally {
      await Promise.all([...callers.values()].map((c) => c.shutdown()));
    }
  },
};
