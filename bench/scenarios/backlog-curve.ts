import { syncRoutes } from '../../src/db/queue/sync-routes';
import { benchConsumer, enqueueBacklog, webhookRoute } from '../lib/sluice-drain';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

const PROBES = 20;

/**
 * One point of the curve: `backlog` rows committed, the drain started, and at that moment `PROBES` new
 * changes committed behind them. Drain rate is backlog / time to empty; latency is the median probe's
 * time from commit to settled (done_at, written right after the sink's 200), i.e. what a change
 * arriving at that backlog waits.
 */
async function point(ctx: BenchContext, backlog: number) {
  const db = await ctx.freshDatabase('bench_curve');
  try {
    const route = webhookRoute(`${ctx.sink.url}/hook`, { concurrency: ctx.concurrency });
    await syncRoutes(db.pool, [route]);
    await enqueueBacklog(db.pool, backlog);
    const consumer = benchConsumer(db.pool, route);
    const started = process.hrtime.bigint();
    consumer.start();
    const probes = Array.from({ length: PROBES }, (_, k) => `probe-${k}`);
    await db.pool.query(`SELECT sluice_enqueue('account', 'update', 'probe', $1::text[], NULL, NULL)`, [
      probes,
    ]);
    let backlogSeconds = 0;
    for (;;) {
      const { rows } = await db.pool.query<{ backlog: string; probes: string }>(
        `SELECT count(*) FILTER (WHERE source = 'bench') AS backlog, count(*) FILTER (WHERE source = 'probe') AS probes
           FROM event_queue WHERE state <> 'done'`,
      );
      if (!backlogSeconds && rows[0].backlog === '0')
        backlogSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (rows[0].backlog === '0' && rows[0].probes === '0') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await consumer.stop();
    const { rows } = await db.pool.query<{ ms: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM done_at - created_at) * 1000) AS ms
         FROM event_queue WHERE source = 'probe'`,
    );
    return { rate: Math.round(backlog / backlogSeconds), latencyMs: Math.round(Number(rows[0].ms)) };
  } finally {
    await db.drop();
  }
}

export const backlogCurve: Scenario = {
  id: 'backlog-curve',
  title: 'Sluice drain rate and new-change latency at several backlog sizes (the chart)',
  run: async (ctx, { quick }) => {
    const out: ScenarioResult[] = [];
    for (const backlog of quick ? [1_000, 5_000] : [1_000, 10_000, 100_000]) {
      ctx.log(`backlog ${backlog.toLocaleString('en-US')}...`);
      const { rate, latencyMs } = await point(ctx, backlog);
      const label = backlog.toLocaleString('en-US');
      out.push(
        {
          id: `curve-rate-${backlog}`,
          name: `drain rate, ${label}-row backlog`,
          unit: 'events/s',
          value: rate,
          compareTo: ['limit-sink-capacity', 'limit-pg-update'],
          chart: [{ series: 'sluice', backlog, eventsPerSec: rate, latencyMs }],
        },
        {
          id: `curve-latency-${backlog}`,
          name: `median commit-to-settled latency of a change arriving behind ${label} rows`,
          unit: 'ms',
          value: latencyMs,
          better: 'lower',
        },
      );
    }
    return out;
  },
};
