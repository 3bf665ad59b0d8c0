import { Pool } from 'pg';
import { buildCallers } from '../../src/callout/build-callers';
import { RouteSchema, type RouteConfig } from '../../src/config/route-schema';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { sessionOptions } from '../../src/db/schema-name';
import { createDrain } from '../../src/drain/drain';
import { Leader } from '../../src/drain/leader';
import { Waker } from '../../src/drain/waker';
import { drainerUrl } from './cpu';

const silent = { info() {}, warn() {}, error() {} };

/** A webhook route of entity `account` named `sink` posting to `url`; `fields` override or add route fields. */
export function webhookRoute(url: string, fields: Record<string, unknown> = {}): RouteConfig {
  return RouteSchema.parse({
    name: 'sink',
    match: { entity: 'account' },
    connector: 'webhook',
    options: { url },
    ...fields,
  });
}

/** The sink route every Sluice drain scenario drains into (the run's concurrency, every change delivered). */
export function sinkRoute(url: string, concurrency: number): RouteConfig {
  return webhookRoute(url, { concurrency, coalesce: false });
}

/**
 * Commits a backlog of `rows` changes (`<prefix><n>`) through sluice_enqueue, 10,000 per statement, then
 * VACUUM ANALYZE (unless `analyze: false`, to keep stale statistics).
 */
export async function enqueueBacklog(
  pool: Pool,
  rows: number,
  { entity = 'account', op = 'update', prefix = 'acc-', source = 'bench', analyze = true } = {},
): Promise<void> {
  for (let i = 0; i < rows; i += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, rows - i) }, (_, k) => `${prefix}${i + k}`);
    await pool.query(`SELECT sluice_enqueue($1, $2, $3, $4::text[], NULL, NULL)`, [entity, op, source, ids]);
  }
  if (analyze) await pool.query('VACUUM ANALYZE event_queue');
}

/**
 * A bare drain of `route` on the scenario's own pool (leader lease, consumer polling every 50 ms, no
 * LISTEN): `start()` leads and drains, `stop()` stops both and closes the route's callers.
 */
export function benchConsumer(pool: Pool, route: RouteConfig, batchSize = 500) {
  const leader = new Leader(pool, 'drain', 'bench', 10_000);
  const callers = buildCallers([route]);
  const drain = createDrain({
    pool,
    leader,
    callers,
    options: { batchSize, pollMs: 50, rowLeaseMs: 60_000 },
    log: silent,
  });
  return {
    drain,
    start: () => {
      leader.start();
      drain.start();
    },
    stop: async () => {
      await drain.stop();
      await leader.stop();
      await Promise.all([...callers.values()].map((c) => c.shutdown()));
    },
  };
}

/**
 * The drain as `sluice start` wires it (leader lease, consumer with its defaults, LISTEN waker), in
 * this process, over one route or several. `start()` begins leading and draining; `stop()` shuts it down
 * cleanly. The drain's own connections (its pool, its LISTEN) carry application_name DRAINER_APP so
 * bench/lib/cpu.ts can meter them; the leader renews its lease on `pool`, as start.ts does on the main pool.
 */
export async function sluiceDrain(pool: Pool, url: string, routes: RouteConfig | RouteConfig[]) {
  const list = Array.isArray(routes) ? routes : [routes];
  await syncRoutes(pool, list);
  const own = drainerUrl(url);
  // As in start.ts: the drain's own writes go through a pool with synchronous_commit off.
  const drainPool = new Pool({
    connectionString: own,
    max: 5,
    options: sessionOptions('synchronous_commit=off'),
  });
  drainPool.on('error', () => undefined); // the database is dropped at the end of a scenario
  const leader = new Leader(pool, 'drain', 'bench', 10_000);
  const callers = buildCallers(list);
  const drain = createDrain({
    pool: drainPool,
    leader,
    callers,
    options: {
      batchSize: Number(process.env.BENCH_BATCH ?? 500),
      maxInFlight: Number(process.env.BENCH_WINDOW ?? 0),
      pollMs: 1000,
      rowLeaseMs: 60_000,
      // As `sluice start`: SLUICE_ATTEMPT_LOG=off measures the drain without the attempt log.
      attemptLog: process.env.SLUICE_ATTEMPT_LOG !== 'off',
    },
    log: silent,
  });
  const waker = new Waker(own, () => drain.wake());
  return {
    drain,
    start: async () => {
      await waker.start();
      leader.start();
      drain.start();
    },
    stop: async () => {
      await drain.stop();
      await leader.stop();
      await waker.stop();
      await drainPool.end();
      for (const c of callers.values()) c.shutdown();
    },
  };
}

/** Samples this process's RSS every 50 ms; `stop()` returns the peak in MB. */
export function rssSampler() {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    /** MB before draining began (the harness, every scenario's modules, the enqueued backlog). */
    baselineMb: Math.round(baseline / 2 ** 20),
    stop: () => {
      clearInterval(t);
      return Math.round(Math.max(peak, process.memoryUsage.rss()) / 2 ** 20);
    },
  };
}

/**
 * Resolves once at most `atMostLeft` rows are pending or running. A cheap index-backed check every
 * 100 ms: a count(*) over a million-row table every few ms would slow the very drain it measures.
 */
export async function untilDrained(pool: Pool, atMostLeft = 0): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM (SELECT 1 FROM event_queue WHERE state IN ('pending', 'running') LIMIT $1) x`,
      [atMostLeft + 1],
    );
    if (Number(rows[0].n) <= atMostLeft) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
