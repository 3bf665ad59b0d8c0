import autocannon from 'autocannon';
import { startBenchApi } from '../lib/api';
import { detailOf, okPerSec, withBody } from '../lib/http-load';
import type { Scenario } from '../lib/types';

const KEY = 'bench-key-0123456789abcdef';

/**
 * The ingestion ceiling of the HTTP layer on this machine: the bench API process (the same fastify server
 * as capture-ingest, in its own process) answering a route with the same API-key check and the same push
 * body validation as POST /v1/events, and no database work, at the same 50 connections with one fresh id
 * per request. push-single and webhook report their ratio to it.
 */
export const limitHttpIngest: Scenario = {
  id: 'limit-http-ingest',
  title: 'Limit: the ingestion HTTP layer with no database (same server, same body validation)',
  run: async (ctx, { quick }) => {
    const duration = quick ? 5 : 10;
    const db = await ctx.freshDatabase('bench_limit_ingest');
    const api = await startBenchApi(db.url, KEY, 'bench-webhook-secret-0123');
    try {
      let seq = 0;
      const run = await autocannon({
        url: `${api.url}/bench/limit-ingest`,
        connections: 50,
        duration,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        requests: withBody(() => ({ entity: 'account', op: 'update', ids: [`s${seq++}`] })),
      });
      if (run.errors > 0 || run.non2xx > 0) ctx.log(`${run.errors} errors, ${run.non2xx} non-2xx`);
      return [
        {
          id: 'limit-http-ingest',
          name: 'the push route with no database: same server and body validation (50 connections, 1 id)',
          unit: 'req/s',
          value: Math.round(okPerSec(run)),
          detail: detailOf(run),
        },
      ];
    } finally {
      await api.stop();
      await db.drop();
    }
  },
};
