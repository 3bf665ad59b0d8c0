import PgBoss from 'pg-boss';
import { cpuLine, cpuMeter, cpuResult, DRAINER_APP } from '../lib/cpu';
import { peerCall, until, warmHttpCall } from '../lib/peer-call';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

/**
 * The drain-backlog job done by pg-boss 10: same Postgres, same sink, same 32 calls at once. A pg-boss
 * 10 worker fetches a batch and waits out its polling interval (0.5 s at least) before the next fetch,
 * so one job per worker would cap it at 2 jobs/s per worker; its best shape here is 4 workers that
 * each fetch 500 jobs (Sluice's batch size) and run them 8 at a time (4 x 8 = the concurrency).
 */
export async function pgBossDrain(ctx: BenchContext, rows: number): Promise<ScenarioResult[]> {
  const db = await ctx.freshDatabase('bench_pgboss', { migrate: false });
  const boss = new PgBoss({
    connectionString: db.url,
    application_name: DRAINER_APP,
    max: 12,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  try {
    await boss.start();
    await boss.createQueue('hook');
    for (let i = 0; i < rows; i += 10_000) {
      const n = Math.min(10_000, rows - i);
      await boss.insert(
        Array.from({ length: n }, (_, k) => ({ name: 'hook', data: { id: `acc-${i + k}` } })),
      );
    }
    await db.pool.query('VACUUM ANALYZE pgboss.job');
    await warmHttpCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    ctx.sink.reset();
    const call = peerCall(`${ctx.sink.url}/hook`, ctx.concurrency);
    const cpu = await cpuMeter(db.url);
    const started = process.hrtime.bigint();
    const workers = 4;
    const perWorker = Math.max(1, Math.floor(ctx.concurrency / workers));
    for (let w = 0; w < workers; w++) {
      await boss.work<{ id: string }>(
        'hook',
        { batchSize: 500, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          let next = 0;
          await Promise.all(
            Array.from({ length: perWorker }, async () => {
              while (next < jobs.length) await call(jobs[next++].data.id);
            }),
          );
        },
      );
    }
    await until(
      async () =>
        (await db.pool.query(`SELECT 1 FROM pgboss.job WHERE name = 'hook' AND state <> 'completed' LIMIT 1`))
          .rowCount === 0,
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const spent = await cpu.stop();
    ctx.log(cpuLine(spent, rows));
    const rate = Math.round(rows / seconds);
    const result: ScenarioResult = {
      id: 'peer-pg-boss',
      name: `pg-boss 10: same backlog (${rows.toLocaleString('en-US')}), sink and concurrency`,
      unit: 'events/s',
      value: rate,
      compareTo: ['limit-http-client'],
      chart: [{ series: 'pg-boss', backlog: rows, eventsPerSec: rate }],
      detail: { rows, seconds: Number(seconds.toFixed(3)), sinkRequests: await ctx.sink.count() },
    };
    return [result, cpuResult('peer-pg-boss-cpu', 'pg-boss', rows, spent, ['limit-http-client-cpu'])];
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await db.drop();
  }
}

export const peerPgBoss: Scenario = {
  id: 'peer-pg-boss',
  title: 'pg-boss drains the same backlog (peer)',
  run: async (ctx, { quick }) => pgBossDrain(ctx, quick ? 5_000 : 100_000),
};
