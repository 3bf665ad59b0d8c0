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

/**
 * Drain rate of a whole `backlog`-row queue, and the rate of each tenth of it (so a drain that slows
 * down as the table churns shows in the last tenths, not only in the total).
 */
async function rateAt(ctx: BenchContext, backlog: number) {
  const db = await ctx.freshDatabase('bench_scale');
  try {
    const s = await sluiceDrain(db.pool, db.url, sinkRoute(`${ctx.sink.url}/hook`, ctx.concurrency));
    await fill(db.pool, backlog);
    const tenth = Math.ceil(backlog / 10);
    const marks: number[] = [];
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    await s.start();
    // The drain's own count of settled rows: no query on the big table while it is measured.
    for (let next = tenth; ;) {
      const done = s.drain.stats.delivered;
      while (done >= next && marks.length < 10) {
        marks.push(elapsed());
        next = Math.min(backlog, next + tenth);
      }
      if (done >= backlog) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = elapsed();
    await s.stop();
    const tenths = marks.map((t, i) => Math.round(tenth / (t - (i ? marks[i - 1] : 0))));
    return { rate: Math.round(backlog / seconds), seconds: Number(seconds.toFixed(1)), tenths };
  } finally {
    await db.drop();
  }
}

/**
 * Does the drain slow down when the queue is huge? The rate of draining a whole 1,000,000-row backlog,
 * to its last row, against the rate of draining a whole 10,000-row backlog (goal: within 20%).
 */
export const drainScale: Scenario = {
  id: 'drain-scale',
  title: 'drain rate at a small and at a huge backlog',
  run: async (ctx, { quick }) => {
    const [small, big] = quick ? [5_000, 100_000] : [10_000, 1_000_000];
    ctx.log(`${small.toLocaleString('en-US')}-row backlog...`);
    const rSmall = await rateAt(ctx, small);
    ctx.log(`${big.toLocaleString('en-US')}-row backlog, drained to the last row...`);
    const rBig = await rateAt(ctx, big);
    const results: ScenarioResult[] = [
      {
        id: 'drain-scale-small',
        name: `drain rate, ${small.toLocaleString('en-US')}-row backlog`,
        unit: 'events/s',
        value: rSmall.rate,
        chart: [{ series: 'sluice', backlog: small, eventsPerSec: rSmall.rate }],
        detail: { seconds: rSmall.seconds },
      },
      {
        id: 'drain-scale-big',
        name: `drain rate, whole ${big.toLocaleString('en-US')}-row backlog (goal >= 0.8x the small one)`,
        unit: 'events/s',
        value: rBig.rate,
        compareTo: ['drain-scale-small'],
        chart: [{ series: 'sluice', backlog: big, eventsPerSec: rBig.rate }],
        detail: { seconds: rBig.seconds, eventsPerSecByTenth: rBig.tenths },
      },
    ];
    return results;
  },
};
