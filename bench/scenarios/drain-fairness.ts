import { randomBytes } from 'node:crypto';
import { runBackfill } from '../../src/planner/backfill/run-backfill';
import { startBenchApi } from '../lib/api';
import { livePushes, percentile, sinkLatencies } from '../lib/live-pushes';
import { sluiceDrain, webhookRoute } from '../lib/sluice-drain';
import { startStampSink } from '../lib/stamp-sink';
import type { Scenario, ScenarioResult } from '../lib/types';

const KEY = 'bench-fairness-key';
const LIVE_RATE = 200;
/** How long after the last live push its delivery is awaited; a later one counts as never delivered. */
const CAP_MS = 30_000;

/**
 * Fairness between routes, one drain over two routes: `bulk` (entity customers, the loopback sink) gets a
 * backfill of a `rows`-row table (source backfill:customers, 8 threads x 500-row pages), `live` (entity
 * orders, a stamping sink) gets 200 single-id pushes/s through the API (its own process). Three phases on
 * the same database: live alone for a few seconds (its commit-to-sink p50/p99 with no backlog), the
 * backfill alone (its rate: rows / time from the backfill's start until its last row is done), then both
 * at once: live pushes from the backfill's start until its last row is done, live latency p50/p99 of
 * those pushes and the backfill's rate beside their solo figures. A live push not delivered within 30 s
 * of the last one counts as 30 s (the failure figure; `undelivered` in the details); a backfill not drained
 * within 300 s (90 s with --quick) is reported at the rate of the rows done by then (`delivered`).
 */
export const drainFairness: Scenario = {
  id: 'drain-fairness',
  title: 'Fairness: live pushes on one route while a backfill drains on another',
  run: async (ctx, { quick }) => {
    const rows = quick ? 10_000 : 100_000;
    const liveSeconds = quick ? 4 : 10;
    const stamp = await startStampSink();
    const db = await ctx.freshDatabase('bench_fair');
    const api = await startBenchApi(db.url, KEY, randomBytes(16).toString('hex'));
    let drain: Awaited<ReturnType<typeof sluiceDrain>> | null = null;
    try {
      const bulk = webhookRoute(`${ctx.sink.url}/hook`, {
        name: 'bulk',
        match: { entity: 'customers' },
        concurrency: ctx.concurrency,
      });
      const live = webhookRoute(stamp.url, {
        name: 'live',
        match: { entity: 'orders' },
        concurrency: ctx.concurrency,
      });
      await db.pool.query(
        `CREATE TABLE customers (id bigint PRIMARY KEY, name text, plan text, updated_at timestamptz)`,
      );
      await db.pool.query(
        `INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['free','pro','gold'])[1 + g % 3], now() FROM generate_series(1, $1) g`,
        [rows],
      );
      await db.pool.query('VACUUM ANALYZE customers');
      const s = (drain = await sluiceDrain(db.pool, db.url, [bulk, live]));
      await s.start();

      const liveRun = async (prefix: string, during: () => Promise<void>) => {
        await stamp.take(); // forget earlier stamps
        const pushes = livePushes(api.url, KEY, 'orders', LIVE_RATE, prefix);
        await during();
        const { committed, failures } = await pushes.stop();
        const lat = await sinkLatencies(stamp.take, committed, CAP_MS);
        const undelivered = lat.filter((v) => !Number.isFinite(v)).length;
        const [p50, p99] = [50, 99].map((p) => Math.min(CAP_MS, percentile(lat, p)));
        ctx.log(
          `live ${prefix}: ${lat.length} pushes, p50 ${p50} ms, p99 ${p99} ms, undelivered ${undelivered}`,
        );
        return { p50, p99, detail: { pushes: lat.length, undelivered, failedPushes: failures.length } };
      };
      // A drain that stops delivering must not hang the bench: past this, the rate is of the rows done so far.
      const drainCapMs = quick ? 90_000 : 300_000;
      const bulkDone = async () =>
        Number(
          (
            await db.pool.query<{ n: string }>(
              `SELECT count(*) AS n FROM event_queue WHERE route = 'bulk' AND state = 'done'`,
            )
          ).rows[0].n,
        );
      const backfill = async () => {
        const doneBefore = await bulkDone();
        const started = process.hrtime.bigint();
        const deadline = Date.now() + drainCapMs;
        const r = await runBackfill(db.pool, {
          table: 'customers',
          route: 'bulk',
          restart: true,
          caller: 'cli',
        });
        if (r.status !== 'done') throw new Error(`backfill ${r.status}: ${r.error}`);
        for (;;) {
          const left = await db.pool.query(
            `SELECT 1 FROM event_queue WHERE route = 'bulk' AND state IN ('pending', 'running') LIMIT 1`,
          );
          if (!left.rowCount || Date.now() > deadline) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const delivered = (await bulkDone()) - doneBefore;
        const note = delivered < rows ? ` (stopped waiting: only ${delivered} done)` : '';
        ctx.log(`backfill of ${rows} rows drained in ${seconds.toFixed(1)} s${note}`);
        return { rate: Math.round(delivered / seconds), seconds: Number(seconds.toFixed(2)), delivered };
      };

      const liveSolo = await liveRun('solo-', () => new Promise((r) => setTimeout(r, liveSeconds * 1000)));
      const bulkSolo = await backfill();
      let bulkMixed = { rate: 0, seconds: 0, delivered: 0 };
      const liveMixed = await liveRun('mixed-', async () => void (bulkMixed = await backfill()));
      // A term above 1: the drain lost its leader lease and took it again during the scenario.
      const lease = await db.pool.query<{ term: string; live: boolean }>(
        `SELECT term, expires_at > now() AS live FROM sluice_leader WHERE name = 'drain'`,
      );
      const leader = { leaderTerm: Number(lease.rows[0]?.term ?? 0), leaseLive: !!lease.rows[0]?.live };
      ctx.log(`leader term ${leader.leaderTerm}, lease ${leader.leaseLive ? 'live' : 'expired'}`);

      const label = rows.toLocaleString('en-US');
      const ms = (id: string, name: string, value: number, detail: object, compareTo?: string[]) =>
        ({ id, name, value, unit: 'ms', better: 'lower', detail, compareTo }) as ScenarioResult;
      return [
        ms(
          'fairness-live-p50-solo',
          `live route, ${LIVE_RATE} pushes/s, no backlog: commit-to-sink p50`,
          liveSolo.p50,
          liveSolo.detail,
        ),
        ms(
          'fairness-live-p99-solo',
          `live route, ${LIVE_RATE} pushes/s, no backlog: commit-to-sink p99`,
          liveSolo.p99,
          liveSolo.detail,
        ),
        ms(
          'fairness-live-p50-backlog',
          `live route, ${LIVE_RATE} pushes/s, while a ${label}-row backfill drains on another route: p50`,
          liveMixed.p50,
          liveMixed.detail,
          ['fairness-live-p50-solo'],
        ),
        ms(
          'fairness-live-p99-backlog',
          `live route, ${LIVE_RATE} pushes/s, while a ${label}-row backfill drains on another route: p99 (goal <= 1,000 ms)`,
          liveMixed.p99,
          liveMixed.detail,
          ['fairness-live-p99-solo'],
        ),
        {
          id: 'fairness-bulk-solo',
          name: `backfill ${label}-row table alone, into the loopback sink`,
          unit: 'rows/s',
          value: bulkSolo.rate,
          detail: { rows, seconds: bulkSolo.seconds, delivered: bulkSolo.delivered },
        },
        {
          id: 'fairness-bulk-mixed',
          name: `the same backfill beside ${LIVE_RATE} live pushes/s (goal >= 0.8x alone)`,
          unit: 'rows/s',
          value: bulkMixed.rate,
          compareTo: ['fairness-bulk-solo'],
          detail: { rows, seconds: bulkMixed.seconds, delivered: bulkMixed.delivered, ...leader },
        },
      ];
    } finally {
      // A stalled drain may never finish stopping: the forced drop below ends its connections instead.
      const stopping = drain?.stop().catch(() => undefined);
      await Promise.race([stopping, new Promise((r) => setTimeout(r, 10_000))]);
      await api.stop();
      stamp.stop();
      await db.drop();
    }
  },
};
