import { syncRoutes } from '../../src/db/queue/sync-routes';
import { timedBatches } from '../lib/parallel';
import { webhookRoute } from '../lib/sluice-drain';
import type { Scenario } from '../lib/types';
import { BATCH, WRITERS } from './limit-postgres';

/**
 * Ingest: the same rows as the raw INSERT limit (1,000 ids per statement, 4 connections), through
 * sluice_enqueue, the one enqueue path: event_log row, fan-out to one route, coalescing check, NOTIFY.
 */
export const ingestEnqueue: Scenario = {
  id: 'ingest-enqueue',
  title: 'Sluice enqueues changes (sluice_enqueue), same rows and shape as the raw INSERT limit',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 100_000;
    const db = await ctx.freshDatabase('bench_ingest');
    try {
      const route = webhookRoute(`${ctx.sink.url}/hook`);
      await syncRoutes(db.pool, [route]);
      const seconds = await timedBatches(Math.ceil(rows / BATCH), WRITERS, (b) =>
        db.pool.query(`SELECT sluice_enqueue('account', 'update', 'bench', $1::text[], NULL, NULL)`, [
          Array.from({ length: Math.min(BATCH, rows - b * BATCH) }, (_, k) => `acc-${b * BATCH + k}`),
        ]),
      );
      return [
        {
          id: 'ingest-enqueue',
          name: `enqueue (sluice_enqueue, ${BATCH.toLocaleString('en-US')} ids/statement, ${WRITERS} connections)`,
          unit: 'events/s',
          value: Math.round(rows / seconds),
          compareTo: ['limit-pg-insert'],
          detail: { rows, seconds: Number(seconds.toFixed(3)) },
        },
      ];
    } finally {
      await db.drop();
    }
  },
};
