import { Logger, run, runMigrations } from 'graphile-worker';
import { Pool } from 'pg';
import { cpuLine, cpuMeter, cpuResult, DRAINER_APP } from '../lib/cpu';
import { peerCall, until, warmHttpCall } from '../lib/peer-call';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

/** The drain-backlog job done by graphile-worker 0.16: same Postgres, same sink, same concurrency. */
export async function graphileDrain(ctx: BenchContext, rows: number): Promise<ScenarioResult[]> {
  const db = await ctx.freshDatabase('bench_gw', { migrate: false });
  const logger = new Logger(() => () => undefined);
  // Its own pool (the same size as Sluice's), ended before the database is dropped.
  const pgPool = new Pool({ connectionString: db.url, max: 12, application_name: DRAINER_APP });
  pgPool.on('error', () => undefined);
  try {
    await runMigrations({ pgPool, logger });
    for (let i = 0; i < rows; i += 10_000) {
      await db.pool.query(
        `SELECT graphile_worker.add_jobs(array_agg(ROW('hook', json_build_object('id', 'acc-' || i), NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec))
           FROM generate_series($1::int, $2::int) i`,
        [i, Math.min(rows, i + 10_000) - 1],
      );
    }
    await db.pool.query('VACUUM ANALYZE graphile_worker._private_jobs');
    await warmHttpCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    ctx.sink.reset();
    const call = peerCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    const cpu = await cpuMeter(db.url);
    const started = process.hrtime.bigint();
    const runner = await run({
      pgPool,
      concurrency: ctx.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger,
      taskList: { hook: async (payload) => call((payload as { id: string }).id) },
    });
    await until(
      async () => (await db.pool.query(`SELECT 1 FROM graphile_worker._private_jobs LIMIT 1`)).rowCount === 0,
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const spent = await cpu.stop();
    ctx.log(cpuLine(spent, rows));
    await runner.stop();
    const rate = Math.round(rows / seconds);
    const result: ScenarioResult = {
      id: 'peer-graphile-worker',
      name: `graphile-worker 0.16: same backlog (${rows.toLocaleString('en-US')}), sink and concurrency`,
      unit: 'events/s',
      value: rate,
      compareTo: ['limit-http-client'],
      chart: [{ series: 'graphile-worker', backlog: rows, eventsPerSec: rate }],
      detail: { rows, seconds: Number(seconds.toFixed(3)), sinkRequests: await ctx.sink.count() },
    };
    return [
      result,
      cpuResult('peer-graphile-worker-cpu', 'graphile-worker', rows, spent, ['limit-http-client-cpu']),
    ];
  } finally {
    await pgPool.end().catch(() => undefined);
    await db.drop();
  }
}

export const peerGraphileWorker: Scenario = {
  id: 'peer-graphile-worker',
  title: 'graphile-worker drains the same backlog (peer)',
  run: async (ctx, { quick }) => graphileDrain(ctx, quick ? 5_000 : 100_000),
};
