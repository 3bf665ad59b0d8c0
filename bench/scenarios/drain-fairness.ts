import { randomBytes } from 'node:crypto';
import { startBenchApi } from '../lib/api';
import { livePushes, percentile, sinkLatencies } from '../lib/live-pushes';
import { enqueueBacklog, sluiceDrain, webhookRoute } from '../lib/sluice-drain';
import { startStampSink } from '../lib/stamp-sink';
import type { Scenario, ScenarioResult } from '../lib/types';

const KEY = 'bench-fairness-key';
const LIVE_RATE = 200;
/** How long after the last live push its delivery is awaited; a later one counts as never delivered. */
const CAP_MS = 30_000;

/**
 * Fairness between routes, one drain over two routes: `bulk` (entity customers, the loopback sink) gets a
 * backlog of `rows` bulk rows committed at once (sluice_enqueue, 10,000 per statement, source
 * backfill:customers as a backfill's rows carry), `live` (entity orders, a stamping sink) gets 200 single-id
 * pushes/s through the API (its own process). Three phases on the same database: live alone for a few seconds
 * (its commit-to-sink p50/p99 with no backlog), the bulk backlog alone (its rate: rows / time from its first
 * commit until its last row is done), then both at once: live pushes from the backlog's first commit until
 * its last row is done, live latency p50/p99 of those pushes and the backlog's rate beside their solo figures.
 * A live push not delivered within 30 s of the last one counts as 30 s (the failure figure; `undelivered` in
 * the details); a backlog not drained within 300 s (90 s with --quick) is reported at the rate of the rows
 * done by then (`delivered`), and the leader's term at the end shows whether the drain lost its lease.
 */
export const drainFairness: Scenario = {
  id: 'drain-fairness',
  title: 'Fairness: live pushes on one route while a bulk backlog drains on another',
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
      const bulkBacklog = async (phase: string) => {
        const doneBefore = await bulkDone();
        const started = process.hrtime.bigint();
        const deadline = Date.now() + drainCapMs;
        await enqueueBacklog(db.pool, rows, {
          entity: 'customers',
          op: 'upsert',
          prefix: `${phase}-`,
          source: 'backfill:customers',
          analyze: false,
        });
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
        ctx.log(`bulk backlog of ${rows} rows drained in ${seconds.toFixed(1)} s${note}`);
        return { rate: Math.round(delivered / seconds), seconds: Number(seconds.toFixed(2)), delivered };
      };

      const liveSolo = await liveRun('solo-', () => new Promise((r) => setTimeout(r, liveSeconds * 1000)));
      const bulkSolo = await bulkBacklog('solo');
      let bulkMixed = { rate: 0, seconds: 0, delivered: 0 };
      const liveMixed = await liveRun('mixed-', async () => void (bulkMixed = await bulkBacklog('mixed')));
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
          `live route, ${LIVE_RATE} pushes/s, while a ${label}-row bulk backlog drains on another route: p50`,
          liveMixed.p50,
          liveMixed.detail,
          ['fairness-live-p50-solo'],
        ),
        ms(
          'fairness-live-p99-backlog',
          `live route, ${LIVE_RATE} pushes/s, while a ${label}-row bulk backlog drains on another route: p99 (goal <= 1,000 ms)`,
          liveMixed.p99,
          liveMixed.detail,
          ['fairness-live-p99-solo'],
        ),
        {
          id: 'fairness-bulk-solo',
          name: `bulk backlog of ${label} rows (source backfill:customers) alone, into the loopback sink`,
          unit: 'rows/s',
          value: bulkSolo.rate,
          detail: { rows, seconds: bulkSolo.seconds, delivered: bulkSolo.delivered },
        },
        {
          id: 'fairness-bulk-mixed',
          name: `the same bulk backlog beside ${LIVE_RATE} live pushes/s (goal >= 0.8x alone)`,
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
