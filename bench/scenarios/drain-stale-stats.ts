import type { PoolClient } from 'pg';
import { claim } from '../../src/db/queue/claim';
import type { Queryable } from '../../src/db/pool';
import { enqueueBacklog, sinkRoute, sluiceDrain } from '../lib/sluice-drain';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import type { Scenario } from '../lib/types';

/** A claim (or its EXPLAIN ANALYZE) taking longer fails with this; the figure then reads as this many ms. */
const TIMEOUT_MS = 10_000;
/** How long the drain gets to deliver its first event. */
const FIRST_CAP_MS = 30_000;

const elapsed = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

/**
 * Times the claim function (src/db/queue/claim.ts, whatever its SQL) on `client` inside a transaction that
 * is rolled back: the real call first (its time, under statement_timeout), then its plan (EXPLAIN ANALYZE, or
 * plain EXPLAIN when the call timed out), captured by handing claim a client that prefixes every query with it.
 */
async function timeClaim(client: PoolClient, limit: number) {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL statement_timeout = ${TIMEOUT_MS}`);
    const held = await client.query<{ lane: number }>(
      `UPDATE sluice_lane SET holder = 'bench-stale', term = 1, expires_at = now() + interval '1 hour' RETURNING lane`,
    );
    await client.query('SAVEPOINT before_claim');
    const o = {
      limit,
      routes: [{ route: 'sink', quota: limit, bulk: false }],
      holder: 'bench-stale',
      lanes: held.rows.map((r) => r.lane),
      terms: held.rows.map(() => 1),
      leaseMs: 60_000,
    };
    const t = process.hrtime.bigint();
    let claimed = 0;
    let timedOut = false;
    try {
      claimed = (await claim(client, o)).length;
    } catch (err) {
      if ((err as { code?: string }).code !== '57014') throw err;
      timedOut = true;
    }
    const ms = timedOut ? TIMEOUT_MS : elapsed(t);
    await client.query('ROLLBACK TO SAVEPOINT before_claim');
    // The plan it ran: with ANALYZE when the claim finished in time, the bare plan when it timed out.
    const plan: string[] = [];
    const explain = timedOut ? 'EXPLAIN' : 'EXPLAIN (ANALYZE, BUFFERS)';
    const explaining = {
      query: async (text: string, params?: unknown[]) => {
        const res = await client.query<{ 'QUERY PLAN': string }>(`${explain} ${text}`, params);
        plan.push(...res.rows.map((r) => r['QUERY PLAN']));
        return { ...res, rows: [] };
      },
    } as unknown as Queryable;
    await claim(explaining, o).catch((err: { code?: string; message: string }) => {
      plan.push(err.code === '57014' ? `(EXPLAIN ANALYZE cancelled after ${TIMEOUT_MS} ms)` : err.message);
    });
    return { ms: Number(ms.toFixed(1)), claimed, timedOut, plan };
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * The claim on a table whose statistics lie (issue 12): autovacuum off on event_queue, `done` rows that were
 * pending once (inserted pending, then set done, so the partial indexes keep their dead entries), ANALYZE
 * while nothing is pending, then `pending` new rows for the same route through sluice_enqueue with no
 * ANALYZE after. Reports one claim of 500 (under a 10 s statement_timeout: a bad plan reads 10,000 ms and
 * `timedOut`), its plan in the details, then the time from the drain's start to its first delivered event
 * (30 s cap) and its rate over the next seconds.
 */
export const drainStaleStats: Scenario = {
  id: 'drain-stale-stats',
  title: 'Claim and drain on a table with stale statistics (autovacuum off, many done rows)',
  run: async (ctx, { quick }) => {
    const done = quick ? 60_000 : 600_000;
    const pending = quick ? 30_000 : 300_000;
    const windowMs = quick ? 3_000 : 10_000;
    const db = await ctx.freshDatabase('bench_stale');
    let drain: Awaited<ReturnType<typeof sluiceDrain>> | null = null;
    try {
      const route = sinkRoute(`${ctx.sink.url}/hook`, ctx.concurrency);
      await syncRoutes(db.pool, [route]);
      await db.pool.query('ALTER TABLE event_queue SET (autovacuum_enabled = false)');
      for (let i = 0; i < done; i += 100_000) {
        await db.pool.query(
          `INSERT INTO event_queue (event_id, route, entity, record_id, op, source)
           SELECT gen_random_uuid(), $1, 'account', 'old-' || g, 'update', 'bench' FROM generate_series($2::int, $3::int) g`,
          [route.name, i, Math.min(done, i + 100_000) - 1],
        );
      }
      await db.pool.query(`UPDATE event_queue SET state = 'done', attempts = 1, done_at = now()`);
      await db.pool.query('ANALYZE event_queue');
      await enqueueBacklog(db.pool, pending, { analyze: false });
      const client = await db.pool.connect();
      const c = await timeClaim(client, 500).finally(() => client.release());
      ctx.log(`claim of 500: ${c.ms} ms${c.timedOut ? ' (timed out)' : ''}, ${c.claimed} rows; plan:`);
      for (const line of c.plan) ctx.log(`  ${line}`);

      ctx.sink.reset();
      const s = (drain = await sluiceDrain(db.pool, db.url, route));
      const t = process.hrtime.bigint();
      await s.start();
      while ((await ctx.sink.count()) === 0 && elapsed(t) < FIRST_CAP_MS)
        await new Promise((r) => setTimeout(r, 20));
      const firstMs = Math.min(FIRST_CAP_MS, elapsed(t));
      const atFirst = await ctx.sink.count();
      await new Promise((r) => setTimeout(r, windowMs));
      const rate = Math.round(((await ctx.sink.count()) - atFirst) / (windowMs / 1000));
      ctx.log(`first delivery after ${firstMs.toFixed(0)} ms, then ${rate} events/s`);
      const label = `${done.toLocaleString('en-US')} done + ${pending.toLocaleString('en-US')} pending rows, stale statistics`;
      const detail = { done, pending, timeoutMs: TIMEOUT_MS };
      return [
        {
          id: 'stale-stats-claim',
          name: `one claim of 500, ${label} (10,000 = timed out)`,
          unit: 'ms',
          value: c.ms,
          better: 'lower',
          detail: { ...detail, claimed: c.claimed, timedOut: c.timedOut, plan: c.plan },
        },
        {
          id: 'stale-stats-first-delivery',
          name: `drain start to first delivered event, ${label} (30,000 = none)`,
          unit: 'ms',
          value: Math.round(firstMs),
          better: 'lower',
          detail: { ...detail, capMs: FIRST_CAP_MS },
        },
        {
          id: 'stale-stats-drain-rate',
          name: `drain rate over ${windowMs / 1000} s after the first delivery, ${label}`,
          unit: 'events/s',
          value: rate,
          compareTo: ['drain-backlog-100000'],
          detail: { ...detail, windowMs },
        },
      ];
    } finally {
      // A claim stuck on a bad plan would hold stop() until it ends: the forced drop below ends it instead.
      const stopping = drain?.stop().catch(() => undefined);
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 5_000))]);
      await db.drop();
    }
  },
};
