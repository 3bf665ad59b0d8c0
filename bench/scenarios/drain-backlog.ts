import { buildCallers } from '../../src/callout/build-callers';
import { RouteSchema } from '../../src/config/route-schema';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { DrainConsumer } from '../../src/drain/consumer';
import { Leader } from '../../src/drain/leader';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

const silent = { info() {}, warn() {}, error() {} };

/**
 * Drain rate: a backlog of `rows` changes already committed, then the single-active consumer drains
 * it into the loopback sink through a webhook route. Time from start until every row is done.
 */
async function drainOnce(ctx: BenchContext, rows: number): Promise<ScenarioResult> {
  const { sink, concurrency } = ctx;
  const db = await ctx.freshDatabase('bench_drain');
  try {
    const route = RouteSchema.parse({
      name: 'sink',
      match: { entity: 'account' },
      connector: 'webhook',
      options: { url: `${sink.url}/hook` },
      concurrency,
    });
    await syncRoutes(db.pool, [route]);
    for (let i = 0; i < rows; i += 10_000) {
      const ids = Array.from({ length: Math.min(10_000, rows - i) }, (_, k) => `acc-${i + k}`);
      await db.pool.query(`SELECT sluice_enqueue('account', 'update', 'bench', $1::text[], NULL, NULL)`, [
        ids,
      ]);
    }
    await db.pool.query('VACUUM ANALYZE event_queue');
    sink.reset();
    const leader = new Leader(db.pool, 'drain', 'bench', 10_000);
    const drain = new DrainConsumer(
      db.pool,
      leader,
      buildCallers([route]),
      new Map([[route.name, route]]),
      { batchSize: 500, pollMs: 50, rowLeaseMs: 60_000 },
      silent,
    );
    const started = process.hrtime.bigint();
    leader.start();
    drain.start();
    for (;;) {
      const { rows: r } = await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`,
      );
      if (Number(r[0].n) === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await drain.stop();
    await leader.stop();
    const delivered = await sink.count();
    const rate = Math.round(rows / seconds);
    return {
      id: `drain-backlog-${rows}`,
      name: `drain ${rows.toLocaleString('en-US')}-row backlog (concurrency ${concurrency})`,
      unit: 'events/s',
      value: rate,
      compareTo: ['limit-sink-capacity', 'limit-pg-update', 'peer-graphile-worker', 'peer-pg-boss'],
      chart: [{ series: 'sluice', backlog: rows, eventsPerSec: rate }],
      detail: { rows, seconds: Number(seconds.toFixed(3)), sinkRequests: delivered },
    };
  } finally {
    await db.drop();
  }
}

export const drainBacklog: Scenario = {
  id: 'drain-backlog',
  title: 'Sluice drains a committed backlog into the loopback sink',
  run: async (ctx, { quick }) => [await drainOnce(ctx, quick ? 5_000 : 100_000)],
};
