import { syncRoutes } from '../../src/db/queue/sync-routes';
import { runBackfill } from '../../src/planner/backfill/run-backfill';
import { benchConsumer, webhookRoute } from '../lib/sluice-drain';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

/**
 * Backfill of a `rows`-row table (id, name, plan, updated_at) into one webhook route on the loopback
 * sink, with the drain consumer delivering while the backfill pages (8 threads of 500 rows). Two
 * figures: how fast the backfill enqueues, and how fast rows reach the sink end to end.
 */
async function backfillRate(ctx: BenchContext, rows: number): Promise<ScenarioResult[]> {
  const { sink, concurrency } = ctx;
  const db = await ctx.freshDatabase('bench_backfill');
  try {
    const route = webhookRoute(`${sink.url}/hook`, {
      name: 'enrich',
      match: { entity: 'customers' },
      concurrency,
    });
    await syncRoutes(db.pool, [route]);
    await db.pool.query(
      `CREATE TABLE customers (id bigint PRIMARY KEY, name text, plan text, updated_at timestamptz)`,
    );
    await db.pool.query(
      `INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['free','pro','gold'])[1 + g % 3], now() FROM generate_series(1, $1) g`,
      [rows],
    );
    await db.pool.query('VACUUM ANALYZE customers');
    sink.reset();
    const consumer = benchConsumer(db.pool, route);
    consumer.start();
    const started = process.hrtime.bigint();
    const result = await runBackfill(db.pool, {
      table: 'customers',
      route: 'enrich',
      page: 500,
      threads: 8,
      caller: 'cli', // as `sluice backfill` (a planner process may only read backfill.tables)
    });
    const backfillSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.status !== 'done') throw new Error(`backfill ${result.status}: ${result.error}`);
    for (;;) {
      const { rows: r } = await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`,
      );
      if (Number(r[0].n) === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await consumer.stop();
    const delivered = await sink.count();
    const label = rows.toLocaleString('en-US');
    return [
      {
        id: `backfill-enqueue-${rows}`,
        name: `backfill ${label}-row table: rows paged into the queue (8 threads x 500)`,
        unit: 'rows/s',
        value: Math.round(rows / backfillSeconds),
        detail: { rows, seconds: Number(backfillSeconds.toFixed(2)), pages: result.pagesFinished },
      },
      {
        id: `backfill-delivered-${rows}`,
        name: `backfill ${label}-row table into the loopback sink, end to end (concurrency ${concurrency})`,
        unit: 'rows/s',
        value: Math.round(rows / totalSeconds),
        compareTo: ['limit-sink-capacity'],
        detail: { rows, seconds: Number(totalSeconds.toFixed(2)), sinkRequests: delivered },
      },
    ];
  } finally {
    await db.drop();
  }
}

export const backfillRateScenario: Scenario = {
  id: 'backfill-rate',
  title: 'Backfill of a large table through one route into the loopback sink',
  run: async (ctx, { quick }) => backfillRate(ctx, quick ? 20_000 : 1_000_000),
};
