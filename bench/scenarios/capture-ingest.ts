import autocannon from 'autocannon';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { sign } from '../../src/lib/signature';
import { startBenchApi } from '../lib/api';
import { detailOf, okPerSec, withBody } from '../lib/http-load';
import type { Scenario, ScenarioResult } from '../lib/types';
import { webhookRoute } from '../lib/sluice-drain';

const KEY = 'bench-key-0123456789abcdef';
const SECRET = 'bench-webhook-secret-0123';

/**
 * Ingestion through the HTTP API (in its own process; no drain or relay running), each change fanned
 * out to one route: pushes of 1,000 ids (4 connections), single-id pushes at concurrency 50, and signed
 * webhooks of one id at concurrency 50. Every request carries fresh record ids. Concurrent single pushes
 * and webhooks are written by group commit (src/capture/group-commit.ts); limit-http-ingest is the same
 * server answering the same push body without the database.
 */
export const captureIngest: Scenario = {
  id: 'capture-ingest',
  title: 'Capture: push and webhook ingestion through the API',
  run: async (ctx, { quick }) => {
    const duration = quick ? 5 : 10;
    const db = await ctx.freshDatabase('bench_ingest');
    const api = await startBenchApi(db.url, KEY, SECRET);
    try {
      await syncRoutes(db.pool, [webhookRoute(ctx.sink.url)]);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
      // Fresh record ids per request.
      let seq = 0;
      const batch = await autocannon({
        url: `${api.url}/v1/events`,
        connections: 4,
        duration,
        method: 'POST',
        headers,
        requests: withBody(() => {
          const base = `b${seq++}`;
          return {
            entity: 'account',
            op: 'update',
            ids: Array.from({ length: 1000 }, (_, k) => `${base}-${k}`),
          };
        }),
      });
      const single = await autocannon({
        url: `${api.url}/v1/events`,
        connections: 50,
        duration,
        method: 'POST',
        headers,
        requests: withBody(() => ({ entity: 'account', op: 'update', ids: [`s${seq++}`] })),
      });
      let n = 0;
      const webhook = await autocannon({
        url: `${api.url}/v1/webhooks/bench`,
        connections: 50,
        duration,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const body = JSON.stringify({
                entity: 'account',
                op: 'update',
                id: `wh-${n}`,
                deliveryId: `d-${n++}`,
              });
              return { ...req, body, headers: { ...req.headers, 'x-sluice-signature': sign(SECRET, body) } };
            },
          },
        ],
      });
      for (const [name, r] of [
        ['batch', batch],
        ['single', single],
        ['webhook', webhook],
      ] as const) {
        if (r.errors > 0 || r.non2xx > 0) ctx.log(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
      }
      const accepted = Number((await db.pool.query(`SELECT count(*) AS n FROM event_log`)).rows[0].n);
      ctx.log(`event_log rows after the run: ${accepted.toLocaleString('en-US')}`);
      const results: ScenarioResult[] = [
        {
          id: 'push-batch',
          name: 'push 1,000 ids per request (4 connections, 1 route)',
          unit: 'ids/s',
          value: Math.round(okPerSec(batch) * 1000),
          compareTo: ['limit-pg-insert'],
          detail: { ...detailOf(batch), goal: '>= 20,000 ids/s' },
        },
        {
          id: 'push-single',
          name: 'push 1 id per request (50 connections, 1 route)',
          unit: 'ids/s',
          value: Math.round(okPerSec(single)),
          compareTo: ['limit-http-ingest'],
          detail: { ...detailOf(single), goal: '>= 8,000 ids/s or >= 0.5x limit-http-ingest' },
        },
        {
          id: 'push-single-p99',
          name: 'push 1 id per request: p99 latency (50 connections)',
          unit: 'ms',
          better: 'lower',
          value: single.latency.p99,
          detail: { goal: '<= 25 ms' },
        },
        {
          id: 'webhook',
          name: 'signed webhook, 1 id per request (50 connections, deliveryId dedupe)',
          unit: 'req/s',
          value: Math.round(okPerSec(webhook)),
          compareTo: ['limit-http-ingest'],
          detail: { ...detailOf(webhook), goal: '>= 6,000 req/s or >= 0.5x limit-http-ingest' },
        },
        {
          id: 'webhook-p99',
          name: 'signed webhook: p99 latency (50 connections)',
          unit: 'ms',
          better: 'lower',
          value: webhook.latency.p99,
          detail: { goal: '<= 25 ms' },
        },
      ];
      return results;
    } finally {
      await api.stop();
      await db.drop();
    }
  },
};
