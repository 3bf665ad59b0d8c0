import { Pool } from 'pg';
import { CaptureFanOut, fanOutOptions } from '../../src/capture/fan-out';
import { addCapture } from '../../src/capture/triggers';
import { sessionOptions } from '../../src/db/schema-name';
import { pgbenchScript, pgbenchVersion, runPgbench } from '../lib/pgbench';
import { sinkRoute, sluiceDrain } from '../lib/sluice-drain';
import { startStampSink, type Stamp } from '../lib/stamp-sink';
import type { Scenario, ScenarioResult } from '../lib/types';

const ROWS = 10_000;
const ROUNDS = 3;
const silent = { warn() {} };
const NOW_MS = 'extract(epoch FROM clock_timestamp()) * 1000';

/** One-row transactions as an application writes them: an UPDATE of a random row, now and then an upsert or a delete. */
const script = (t: string) => `\\set id random(1, ${ROWS})
\\set r random(1, 100)
\\if :r <= 3
INSERT INTO ${t} (id, email, score, written_at) VALUES (:id, 'user' || :id || '@example.com', 0, ${NOW_MS})
  ON CONFLICT (id) DO UPDATE SET score = ${t}.score + 1, written_at = excluded.written_at;
\\elif :r <= 5
DELETE FROM ${t} WHERE id = :id;
\\else
UPDATE ${t} SET score = score + 1, written_at = ${NOW_MS} WHERE id = :id;
\\endif
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const r1 = (x: number) => Number(x.toFixed(1));
const PACED_TPS = 400;

/** Latency figures of one captured run from the sink's stamps (the first second is warm-up). */
function delivery(stamps: Stamp[], startedAt: number, endedAt: number) {
  const timed = stamps.filter(([, , op, w]) => op !== 'delete' && w !== undefined && w > startedAt + 1000);
  const ms = timed.map(([, at, , w]) => Math.max(0, at - w!)).sort((a, b) => a - b);
  // The capture's share: from the statement to the event's queue row (occurredAt: the fan-out's time).
  const toQueue = timed.map(([, , , w, q]) => Math.max(0, q! - w!)).sort((a, b) => a - b);
  return {
    callouts: stamps.length,
    p50: r1(pct(ms, 0.5)),
    p99: r1(pct(ms, 0.99)),
    queueP50: r1(pct(toQueue, 0.5)),
    queueP99: r1(pct(toQueue, 0.99)),
    drainedMs: Math.max(0, Math.round(Math.max(...stamps.map((x) => x[1])) - endedAt)),
  };
}
type Delivery = ReturnType<typeof delivery>;
const describe = (d: Delivery) =>
  `${d.callouts} callouts, latency p50 ${d.p50} ms p99 ${d.p99} ms (to the queue: p50 ${d.queueP50} ms ` +
  `p99 ${d.queueP99} ms), last callout ${d.drainedMs} ms after the end`;

/**
 * Many writers on a captured table: pgbench runs one-row transactions (8 writers, then 1) on a 10,000-row
 * table and on its uncaptured twin, in alternating order, with Sluice fanning out and draining into a
 * loopback sink all along (as `sluice start` would). Figures: captured / uncaptured TPS of each round
 * (median of 3), and the same with the fan-out paused during the run (what the trigger and the journal
 * cost the writers, without the CPU the pipeline takes from them on a shared machine); while the 8 writers run at full speed, the time from each change's statement
 * (clock_timestamp() written into the row, just before its commit) to its callout at the sink, and how long
 * after pgbench's end the last callout arrives; the same latency with the 8 writers paced at 400 TPS.
 */
export const captureOltp: Scenario = {
  id: 'capture-oltp',
  title: 'Capture: concurrent one-row writers (pgbench), captured vs uncaptured',
  run: async (ctx, { quick }) => {
    const version = pgbenchVersion();
    if (!version) {
      ctx.log(
        'SKIPPED: pgbench not found on PATH (Debian/Ubuntu: apt-get install postgresql-client); capture-oltp needs it',
      );
      return [];
    }
    const seconds = quick ? 4 : 10;
    const sink = await startStampSink();
    const db = await ctx.freshDatabase('bench_oltp');
    // As start.ts runs it: a connection of its own, asynchronous commit.
    const fanPool = new Pool({
      connectionString: db.url,
      max: 1,
      options: sessionOptions('synchronous_commit=off'),
    });
    fanPool.on('error', () => undefined); // the database is dropped at the end
    const s = await sluiceDrain(db.pool, db.url, sinkRoute(sink.url, ctx.concurrency));
    const newFanOut = () => {
      const f = new CaptureFanOut(fanPool, fanOutOptions(1000), silent);
      f.onFannedOut = () => s.drain.wake();
      return f;
    };
    let fanOut = newFanOut();
    let started = false;
    try {
      for (const t of ['oltp_plain', 'oltp_captured']) {
        await db.pool.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text,
                               score int NOT NULL DEFAULT 0, written_at float8)`);
        await db.pool.query(
          `INSERT INTO ${t} SELECT g, 'user' || g || '@example.com', 'name ' || g, 0, NULL FROM generate_series(1, $1) g`,
          [ROWS],
        );
      }
      await addCapture(db.pool, { table: 'oltp_captured', entity: 'account' });
      await db.pool.query('VACUUM ANALYZE oltp_plain, oltp_captured');
      await s.start();
      fanOut.start();
      started = true;
      const scripts = {
        plain: pgbenchScript('plain', script('oltp_plain')),
        captured: pgbenchScript('captured', script('oltp_captured')),
        paused: pgbenchScript('paused', script('oltp_captured')),
      };

      /** Waits until every change of the run reached the sink; returns the stamps of the run. */
      const drained = async (): Promise<Stamp[]> => {
        const got: Stamp[] = [];
        const deadline = Date.now() + 120_000;
        for (;;) {
          got.push(...(await sink.take()));
          const { rows } = await db.pool.query<{ journal: boolean; live: boolean; queued: string }>(
            `SELECT EXISTS (SELECT 1 FROM sluice_capture_batch) AS journal,
                    EXISTS (SELECT 1 FROM event_queue WHERE state IN ('pending', 'running')) AS live,
                    (SELECT count(*) FROM event_queue) AS queued`,
          );
          if (!rows[0].journal && !rows[0].live && got.length >= Number(rows[0].queued)) return got;
          if (Date.now() > deadline) throw new Error(`not drained after 120 s: ${JSON.stringify(rows[0])}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      /**
       * One pgbench run from an empty queue; for the captured table, until its last callout. `paused`: the
       * captured table with the fan-out stopped while pgbench runs (the writers pay the trigger and the journal
       * only; the pipeline's CPU is not taken from them), its changes fanned out and delivered afterwards.
       */
      const run = async (kind: 'plain' | 'captured' | 'paused', writers: number, rate?: number) => {
        await db.pool.query('TRUNCATE event_log, event_queue');
        await sink.take();
        if (kind === 'paused') await fanOut.stop();
        const startedAt = performance.timeOrigin + performance.now();
        const used = process.cpuUsage();
        const threads = Math.min(writers, 2);
        const r = await runPgbench(db.url, {
          script: scripts[kind],
          clients: writers,
          threads,
          seconds,
          rate,
        });
        let d: Delivery | null = null;
        let cpuPerChangeMs: number | null = null;
        if (kind === 'paused') {
          fanOut = newFanOut();
          fanOut.start();
          await drained();
        }
        if (kind === 'captured') {
          d = delivery(await drained(), startedAt, r.endedAt);
          const spent = process.cpuUsage(used);
          cpuPerChangeMs = Number(((spent.user + spent.system) / 1000 / d.callouts).toFixed(3));
        }
        ctx.log(
          `${writers} writer(s)${rate ? ` at ${rate} TPS` : ''}, ${kind}: ${Math.round(r.tps)} TPS, ` +
            `writer CPU ${r.writerCpuMsPerTx ?? '-'} ms/tx${d ? `, ${describe(d)}, Sluice CPU ${cpuPerChangeMs} ms/change` : ''}`,
        );
        return { tps: Math.round(r.tps), writerCpuMsPerTx: r.writerCpuMsPerTx, delivery: d, cpuPerChangeMs };
      };

      const results: ScenarioResult[] = [];
      const full: Array<Delivery & { cpuPerChangeMs: number | null }> = [];
      for (const writers of [8, 1]) {
        const tps = { plain: [] as number[], captured: [] as number[], paused: [] as number[] };
        const cpu = {
          plain: [] as Array<number | null>,
          captured: [] as Array<number | null>,
          paused: [] as Array<number | null>,
        };
        for (let round = 0; round < ROUNDS; round++) {
          for (const kind of round % 2
            ? (['captured', 'paused', 'plain'] as const)
            : (['plain', 'paused', 'captured'] as const)) {
            const r = await run(kind, writers);
            tps[kind].push(r.tps);
            cpu[kind].push(r.writerCpuMsPerTx);
            if (writers === 8 && r.delivery) full.push({ ...r.delivery, cpuPerChangeMs: r.cpuPerChangeMs });
          }
        }
        const ratios = tps.captured.map((c, i) => Number((c / tps.plain[i]).toFixed(2)));
        const journalOnly = tps.paused.map((c, i) => Number((c / tps.plain[i]).toFixed(2)));
        ctx.log(
          `${writers} writer(s): captured / uncaptured TPS per round ${ratios.join(', ')}; ` +
            `with the fan-out paused ${journalOnly.join(', ')}`,
        );
        results.push({
          id: `capture-oltp-${writers}`,
          name: `captured / uncaptured TPS, ${writers} concurrent writer${writers > 1 ? 's' : ''} of one-row transactions (pgbench; goal >= ${writers > 1 ? '0.8' : '0.9'}x)`,
          unit: 'x uncaptured',
          value: median(ratios),
          detail: { seconds, rows: ROWS, pgbench: version, ratios, tps, writerCpuMsPerTx: cpu },
        });
        results.push({
          id: `capture-oltp-journal-${writers}`,
          name: `captured with the fan-out paused (trigger + journal only) / uncaptured TPS, ${writers} writer${writers > 1 ? 's' : ''}`,
          unit: 'x uncaptured',
          value: median(journalOnly),
          detail: { seconds, rows: ROWS, ratios: journalOnly, tps },
        });
      }
      const paced: Delivery[] = [];
      for (let round = 0; round < ROUNDS; round++)
        paced.push((await run('captured', 8, PACED_TPS)).delivery!);

      const latency = (id: string, name: string, runs: Delivery[], key: 'p50' | 'p99' | 'drainedMs') => ({
        id,
        name,
        unit: 'ms',
        better: 'lower' as const,
        value: median(runs.map((d) => d[key])),
        detail: { seconds, writers: 8, runs },
      });
      results.push(
        latency(
          'capture-oltp-latency-p50',
          'commit-to-callout latency p50, 8 writers at full speed (goal <= 20 ms)',
          full,
          'p50',
        ),
        latency(
          'capture-oltp-latency-p99',
          'commit-to-callout latency p99, 8 writers at full speed (goal <= 100 ms)',
          full,
          'p99',
        ),
        latency(
          'capture-oltp-drained',
          'last callout after the 8 writers stop (goal <= 2,000 ms)',
          full,
          'drainedMs',
        ),
        latency(
          'capture-oltp-paced-p50',
          `commit-to-callout latency p50, 8 writers at ${PACED_TPS} TPS in all`,
          paced,
          'p50',
        ),
        latency(
          'capture-oltp-paced-p99',
          `commit-to-callout latency p99, 8 writers at ${PACED_TPS} TPS in all`,
          paced,
          'p99',
        ),
      );
      return results;
    } finally {
      if (started) {
        await fanOut.stop();
        await s.stop();
      }
      await fanPool.end();
      sink.stop();
      await db.drop();
    }
  },
};
