import type { Pool } from 'pg';
import { timedBatches } from '../lib/parallel';
import type { Scenario } from '../lib/types';

export const BATCH = 1_000;
export const WRITERS = 4;

const timed = (batches: number, work: (i: number) => Promise<unknown>) =>
  timedBatches(batches, WRITERS, work);

async function measure(pool: Pool, rows: number) {
  // Same columns, defaults, checks and indexes as event_queue; no function, fan-out, event_log or NOTIFY.
  await pool.query('CREATE TABLE raw_queue (LIKE event_queue INCLUDING ALL)');
  const batches = Math.ceil(rows / BATCH);
  const insertSeconds = await timed(batches, (b) => {
    const ids = Array.from({ length: Math.min(BATCH, rows - b * BATCH) }, (_, k) => `acc-${b * BATCH + k}`);
    return pool.query(
      `INSERT INTO raw_queue (event_id, route, entity, record_id, op, source)
       SELECT gen_random_uuid(), 'sink', 'account', id, 'update', 'bench' FROM unnest($1::text[]) AS id`,
      [ids],
    );
  });
  await pool.query('VACUUM ANALYZE raw_queue');
  const { rows: idRows } = await pool.query<{ id: string }>('SELECT id FROM raw_queue ORDER BY id');
  const ids = idRows.map((r) => r.id);
  // The settle step of a delivery: mark a batch of rows done by id.
  const updateSeconds = await timed(batches, (b) =>
    pool.query(
      `UPDATE raw_queue SET state = 'done', attempts = attempts + 1, done_at = now(), updated_at = now(),
         last_status = 200 WHERE id = ANY($1::bigint[])`,
      [ids.slice(b * BATCH, (b + 1) * BATCH)],
    ),
  );
  return { insertSeconds, updateSeconds };
}

/**
 * The raw Postgres rate for the rows Sluice writes: multi-row INSERTs into, then UPDATEs of, a plain table
 * shaped like event_queue, 1,000 rows per statement, 4 connections. Ingest compares to the first,
 * drain to the second.
 */
export const limitPostgres: Scenario = {
  id: 'limit-postgres',
  title: 'Limit: raw Postgres INSERT and UPDATE of event_queue-shaped rows',
  run: async (ctx, { quick }) => {
    const rows = quick ? 20_000 : 100_000;
    const db = await ctx.freshDatabase('bench_rawpg');
    try {
      const { insertSeconds, updateSeconds } = await measure(db.pool, rows);
      const shape = `${BATCH.toLocaleString('en-US')} rows/statement, ${WRITERS} connections`;
      return [
        {
          id: 'limit-pg-insert',
          name: `raw Postgres INSERT (${shape})`,
          unit: 'rows/s',
          value: Math.round(rows / insertSeconds),
          detail: { rows, seconds: Number(insertSeconds.toFixed(3)) },
        },
        {
          id: 'limit-pg-update',
          name: `raw Postgres UPDATE by id (${shape})`,
          unit: 'rows/s',
          value: Math.round(rows / updateSeconds),
          detail: { rows, seconds: Number(updateSeconds.toFixed(3)) },
        },
      ];
    } finally {
      await db.drop();
    }
  },
};
