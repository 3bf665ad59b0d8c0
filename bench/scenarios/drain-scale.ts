import type { Pool } from 'pg';
import { sinkRoute, sluiceDrain } from '../lib/sluice-drain';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

/** `n` pending rows of distinct records, written in bulk straight into event_queue (the drain's input). */
async function fill(pool: Pool, n: number): Promise<void> {
  for (let i = 0; i < n; i += 200_000) {
    await pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source)
       SELECT gen_random_uuid(), 'sink', 'account', 'acc-' || g, 'update', 'bench'
         FROM generate_series($1::int, $2::int) g`,
      [i, Math.min(n, i + 200_000) - 1],
    );
  }
  await pool.query('VACUUM ANALYZE event_queue');
}

/** Drain rate over the first `window` rows of a `backlog`-row queue. */
async function rateAt(ctx: BenchContext, backlog: number, window: number) {
  const db = await ctx.freshDatabase('bench_scale');
  try {
    const s = await sluiceDrain(db.pool, db.url, sinkRoute(`${ctx.sink.url}/hook`, ctx.concurrency));
    await fill(db.pool, backlog);
    const started = process.hrtime.bigint();
    await s.start();
    // The drain's own count of settled rows: no query on the big table while it is measured.
    while (s.drain.stats.delivered < window) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await s.stop();
    return Math.round(window / seconds);
  } finally {
    await db.drop();
  }
}

/**
 * Does the drain slow down when the queue is huge? The rate over the first 50,000 rows of a
 * 1,000,000-row backlog against the rate of draining a whole 10,000-row backlog (goal: within 20%).
 */
export const drainScale: Scenario = {
  id: 'drain-scale',
  title: 'drain rate at a small and at a huge backlog',
  run: async (ctx, { quick }) => {
    const [small, big, window] = quick ? [5_000, 100_000, 10_000] : [10_000, 1_000_000, 50_000];
    ctx.log(`${small.toLocaleString('en-US')}-row backlog...`);
    const rSmall = await rateAt(ctx, small, small);
    ctx.log(`${big.toLocaleString('en-US')}-row backlog (first ${window.toLocaleString('en-US')} rows)...`);
    const rBig = await rateAt(ctx, big, window);
    const results: ScenarioResult[] = [
      {
        id: 'drain-scale-small',
        name: `drain rate, ${small.toLocaleString('en-US')}-row backlog`,
        unit: 'events/s',
        value: rSmall,
        chart: [{ series: 'sluice', backlog: small, eventsPerSec: rSmall }],
      },
      {
        id: 'drain-scale-big',
        name: `drain rate, first ${window.toLocaleString('en-US')} rows of a ${big.toLocaleString('en-US')}-row backlog (goal >= 0.8x the small one)`,
        unit: 'events/s',
        value: rBig,
        compareTo: ['drain-scale-small'],
        chart: [{ series: 'sluice', backlog: big, eventsPerSec: rBig }],
      },
    ];
    return results;
  },
};
