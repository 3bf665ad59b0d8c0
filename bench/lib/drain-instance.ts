// One drain instance in a process of its own, for the multi-instance bench (bench/scenarios/drain-instances.ts):
// `tsx drain-instance.ts` with BENCH_DB_URL, BENCH_SINK_URL, BENCH_CONCURRENCY, BENCH_HOLDER, BENCH_APP in its
// environment. Wired as start.ts wires the drain (lanes with route shares, LISTEN waker, synchronous_commit off
// on the drain's pool); prints "ready" once its first lane round is done and stops cleanly on SIGTERM.
import { Pool } from 'pg';
import { buildCallers } from '../../src/callout/build-callers';
import { sessionOptions } from '../../src/db/schema-name';
import { createDrain } from '../../src/drain/drain';
import { LaneKeeper } from '../../src/drain/lane-keeper';
import { Leader } from '../../src/drain/leader';
import { Waker } from '../../src/drain/waker';
import { sinkRoute } from './sluice-drain';

const silent = { info() {}, warn() {}, error() {} };
const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};

async function main() {
  const holder = env('BENCH_HOLDER');
  const u = new URL(env('BENCH_DB_URL'));
  u.searchParams.set('application_name', env('BENCH_APP'));
  const url = u.toString();
  const pool = new Pool({ connectionString: url, max: 2, options: sessionOptions() });
  const drainPool = new Pool({
    connectionString: url,
    max: 5,
    options: sessionOptions('synchronous_commit=off'),
  });
  pool.on('error', () => undefined);
  drainPool.on('error', () => undefined);
  const lanes = new LaneKeeper(drainPool, { holder, ttlMs: 2000 }, silent);
  const callers = buildCallers(
    [sinkRoute(env('BENCH_SINK_URL'), Number(env('BENCH_CONCURRENCY')))],
    undefined,
    {
      share: () => Math.max(lanes.share, lanes.minShare),
    },
  );
  const leader = new Leader(pool, 'drain', holder, 2000);
  const drain = createDrain({
    pool: drainPool,
    leader,
    lanes,
    callers,
    options: { batchSize: 500, pollMs: 1000, rowLeaseMs: 60_000 },
    log: silent,
  });
  const waker = new Waker(url, () => drain.wake());
  await waker.start();
  leader.start();
  await drain.start();
  process.stdout.write(`ready ${lanes.view.held.length}\n`);
  process.once('SIGTERM', () => {
    void (async () => {
      await drain.stop();
      await leader.stop();
      await waker.stop();
      for (const c of callers.values()) c.shutdown();
      await Promise.all([drainPool.end(), pool.end()]);
      const st = drain.stats;
      process.stdout.write(
        `stats ${JSON.stringify({
          delivered: st.delivered,
          claims: st.batches.started,
          rearms: st.batches.rearms,
          // This process's peak resident set since it started (kB in resourceUsage), tsx's loader included.
          peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        })}\n`,
      );
      process.exit(0);
    })();
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
