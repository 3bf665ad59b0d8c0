import { cpuLine, cpuMeter, cpuResult, DRAINER_APP } from '../lib/cpu';
import { warmHttpCall } from '../lib/peer-call';
import { enqueueBacklog, rssSampler, sinkRoute, sluiceDrain, untilDrained } from '../lib/sluice-drain';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

/**
 * Drain rate: a backlog of `rows` changes committed through sluice_enqueue, then the single-active
 * consumer drains it into the loopback sink through a webhook route. Time from start until every row
 * is done; peak RSS of this process (the drain) meanwhile; CPU per 1,000 events of this process and of the
 * drain's Postgres backends (its pools and its LISTEN connection).
 */
async function drainOnce(ctx: BenchContext, rows: number): Promise<ScenarioResult[]> {
  const { sink, concurrency } = ctx;
  const db = await ctx.freshDatabase('bench_drain');
  try {
    const route = sinkRoute(`${sink.url}/hook`, concurrency);
    const s = await sluiceDrain(db.pool, db.url, route);
    await enqueueBacklog(db.pool, rows);
    await warmHttpCall(`${sink.url}/hook`, concurrency);
    sink.reset();
    const rss = rssSampler();
    const cpu = await cpuMeter(db.url, { apps: [DRAINER_APP, 'sluice-listen'] });
    const started = process.hrtime.bigint();
    await s.start();
    await untilDrained(db.pool);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const spent = await cpu.stop();
    const peakMb = rss.stop();
    ctx.log(cpuLine(spent, rows));
    const stats = s.drain.stats;
    await s.stop();
    const delivered = await sink.count();
    const rate = Math.round(rows / seconds);
    return [
      {
        id: `drain-backlog-${rows}`,
        name: `drain ${rows.toLocaleString('en-US')}-row backlog (concurrency ${concurrency})`,
        unit: 'events/s',
        value: rate,
        compareTo: [
          'limit-sink-capacity',
          'limit-http-client',
          'limit-pg-update',
          'peer-graphile-worker',
          'peer-pg-boss',
        ],
        chart: [{ series: 'sluice', backlog: rows, eventsPerSec: rate }],
        detail: {
          rows,
          seconds: Number(seconds.toFixed(3)),
          sinkRequests: delivered,
          batches: stats.batches.finished,
          rearms: stats.batches.rearms,
        },
      },
      {
        id: 'drain-peak-rss',
        name: `peak RSS of the draining process (${rows.toLocaleString('en-US')}-row backlog; goal <= 250 MB)`,
        unit: 'MB',
        value: peakMb,
        better: 'lower',
        detail: { baselineMb: rss.baselineMb },
      },
      cpuResult('drain-backlog-cpu', 'Sluice drain', rows, spent, [
        'peer-pg-boss-cpu',
        'peer-graphile-worker-cpu',
        'limit-http-client-cpu',
      ]),
    ];
  } finally {
    await db.drop();
  }
}

export const drainBacklog: Scenario = {
  id: 'drain-backlog',
  title: 'Sluice drains a committed backlog into the loopback sink',
  run: async (ctx, { quick }) => drainOnce(ctx, quick ? 5_000 : 100_000),
};
