import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { Scenario } from '../lib/types';

/**
 * The sink's raw capacity: autocannon POSTs a webhook-sized body to the same child-process sink with the
 * same number of connections as the drain's callout concurrency. No delivery can go faster than this.
 */
export const limitSink: Scenario = {
  id: 'limit-sink',
  title: 'Limit: the loopback sink under autocannon at the same concurrency',
  run: async (ctx, { quick }) => {
    const body = JSON.stringify({
      eventId: randomUUID(),
      entity: 'account',
      recordId: 'acc-1',
      op: 'update',
      source: 'bench',
      occurredAt: new Date().toISOString(),
      payload: null,
      attempt: 1,
      merged: 0,
    });
    const r = await autocannon({
      url: `${ctx.sink.url}/hook`,
      connections: ctx.concurrency,
      duration: quick ? 5 : 15,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const ok = r.requests.total - r.non2xx;
    if (r.errors > 0 || r.non2xx > 0) ctx.log(`autocannon saw ${r.errors} errors and ${r.non2xx} non-2xx`);
    return [
      {
        id: 'limit-sink-capacity',
        name: `sink raw capacity (autocannon, ${ctx.concurrency} connections)`,
        unit: 'req/s',
        value: Math.round(ok / r.duration),
        detail: {
          seconds: r.duration,
          requests: r.requests.total,
          errors: r.errors,
          non2xx: r.non2xx,
          latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
        },
      },
    ];
  },
};
