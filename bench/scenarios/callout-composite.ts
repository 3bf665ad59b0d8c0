import { buildCallers } from '../../src/callout/build-callers';
import { RouteSchema } from '../../src/config/route-schema';
import { benchEvents, pool } from '../lib/callout';
import type { Scenario } from '../lib/types';

/**
 * Batching pays: the same salesforce-style route to the same sink, once with batchSize 1 (one request per
 * event) and once with the collection limit of 200 records per request, per-record results read back
 * either way. Events are handed to the route in drain-sized slices by `concurrency` workers. Goal: >= 10x.
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
    try {
      const single = await measure('single', quick ? 4_000 : 15_000, 1);
      const composite = await measure('composite', quick ? 40_000 : 150_000, 200);
      ctx.log(
        `one per event ${Math.round(single.perSec)}/s (${single.requests} requests), composite ${Math.round(composite.perSec)}/s (${composite.requests} requests)`,
      );
      return [
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
