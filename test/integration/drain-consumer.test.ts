import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCallers } from '../../src/callout/build-callers';
import { RouteSchema, type RouteConfig } from '../../src/config/route-schema';
import { enqueue } from '../../src/db/queue/enqueue';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import {
  createDrain,
  type Drain,
  type DeadLetterInfo,
  type DrainAlert,
  type DrainOptions,
} from '../../src/drain/drain';
import { observe } from '../../src/drain/observer';
import type { BatchView } from '../../src/drain/batch';
import { Leader } from '../../src/drain/leader';
import { createServiceMetrics } from '../../src/metrics/registry';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startSink, type Sink, type SinkRequest } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const silent = { info() {}, warn() {}, error() {} };

describe('the drain consumer against a real Postgres and a loopback sink', () => {
  let db: TestDb;
  let sink: Sink;
  const running: Array<{ drain: Drain; leader: Leader }> = [];

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
  });
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.drain.stop(0);
      await r.leader.stop();
    }
    await db.pool.query('TRUNCATE event_queue, event_log, sluice_leader');
    sink.requests.length = 0;
    sink.respond = () => ({});
  });
  afterAll(async () => {
    await sink?.close();
    await db?.drop();
  });

  function route(extra: Record<string, unknown> = {}): RouteConfig {
    return RouteSchema.parse({
      name: 'crm',
      match: { entity: 'account' },
      connector: 'webhook',
      options: { url: `${sink.url}/hook` },
      concurrency: 8,
      coalesce: false,
      ...extra,
    });
  }

  async function startDrain(r: RouteConfig, opts: Partial<DrainOptions> = {}, holder = 'p1') {
    await syncRoutes(db.pool, [r]);
    const leader = new Leader(db.pool, 'drain', holder, 2000);
    const drain = createDrain({
      pool: db.pool,
      leader,
      callers: buildCallers([r]),
      options: { batchSize: 50, pollMs: 100, rowLeaseMs: 60_000, ...opts },
      log: silent,
    });
    leader.start();
    drain.start();
    running.push({ drain, leader });
    return { drain, leader };
  }

  const body = (r: SinkRequest) => JSON.parse(r.body) as { eventId: string; recordId: string };

  it('drains a backlog in overlapping batches, keeps per-record order, never calls one record twice at once, then idles', async () => {
    const records = ['r1', 'r2', 'r3', 'r4'];
    let busy = new Set<string>();
    let overlapped = false;
    sink.respond = (req) => {
      const rec = body(req).recordId;
      if (busy.has(rec)) overlapped = true;
      busy.add(rec);
      setTimeout(() => busy.delete(rec), 2);
      return { delayMs: 2 };
    };
    const r = route();
    await syncRoutes(db.pool, [r]);
    // 4 records x 60 updates, and 400 other records: 640 rows, more than the 100-row window.
    for (let i = 0; i < 60; i++)
      await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: records });
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 't',
      ids: Array.from({ length: 400 }, (_, i) => `o${i}`),
    });
    const started: BatchView[] = [];
    const finished: BatchView[] = [];
    const { drain } = await startDrain(r);
    drain.on('batchStarted', (b) => started.push(b));
    drain.on('batchFinished', (b) => finished.push(b));

    await waitFor(() => sink.requests.length >= 640, '640 callouts', { timeoutMs: 60_000 });
    await waitFor(() => drain.stats.state === 'idle', 'consumer idle');
    busy = new Set();
    expect(overlapped).toBe(false);
    // The route's concurrency is both used and never exceeded.
    expect(sink.maxInFlight).toBe(r.concurrency);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`)).toBe(0);
    // Each record's callouts came in the order of its queue rows.
    const { rows } = await db.pool.query<{ event_id: string; record_id: string }>(
      `SELECT event_id, record_id FROM event_queue WHERE record_id = ANY ($1) ORDER BY id`,
      [records],
    );
    for (const rec of records) {
      const expected = rows.filter((x) => x.record_id === rec).map((x) => x.event_id);
      const seen = sink.requests
        .map(body)
        .filter((b) => b.recordId === rec)
        .map((b) => b.eventId);
      expect(seen).toEqual(expected);
    }
    const st = drain.stats;
    expect(st.role).toBe('leader');
    expect(st.delivered).toBe(640);
    expect(st.batches.started).toBeGreaterThan(1);
    expect(st.batches.finished).toBe(st.batches.started);
    expect(st.batches.rearms).toBeGreaterThan(0);
    expect(st.batches.active).toEqual([]);
    expect(st.inFlight).toBe(0);
    // Every batch reported its work: all of it started, finished and settled.
    expect(finished.length).toBe(started.length);
    for (const b of finished) {
      expect(b.started).toBe(b.size);
      expect(b.finished).toBe(b.size);
      expect(b.settled).toBe(b.size);
    }
    expect(finished.reduce((n, b) => n + b.size, 0)).toBe(640);
  });

  it('metrics count batches per claim (size and duration), not per bulk settle write', async () => {
    sink.respond = () => ({ delayMs: 1 });
    const r = route();
    await syncRoutes(db.pool, [r]);
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 't',
      ids: Array.from({ length: 230 }, (_, i) => `m${i}`),
    });
    const { drain } = await startDrain(r);
    const metrics = createServiceMetrics(async () => ({ consumer: drain.stats }));
    observe(drain, metrics.drainObserver);
    const finished: BatchView[] = [];
    drain.on('batchFinished', (b) => finished.push(b));
    await waitFor(() => drain.stats.delivered >= 230 && drain.stats.state === 'idle', 'drained');
    const st = drain.stats;
    const text = await metrics.registry.metrics();
    const value = (re: RegExp) => Number(re.exec(text)?.[1]);
    // 230 rows in claims of at most 50: at least 5 batches, each counted once however many
    // settle flushes closed its rows.
    expect(st.batches.started).toBeGreaterThanOrEqual(5);
    expect(value(/^sluice_drain_batch_size_count (\d+)$/m)).toBe(st.batches.started);
    expect(value(/^sluice_drain_batch_size_sum (\d+)$/m)).toBe(230);
    expect(value(/^sluice_drain_batch_duration_seconds_count (\d+)$/m)).toBe(st.batches.finished);
    expect(value(/^sluice_drain_batches_started_total (\d+)$/m)).toBe(st.batches.started);
    expect(value(/^sluice_drain_batches_total (\d+)$/m)).toBe(st.batches.finished);
    expect(st.batches.finished).toBe(st.batches.started);
    const longest = Math.max(...finished.map((b) => b.ageMs)) / 1000;
    expect(value(/^sluice_drain_batch_duration_seconds_sum ([\d.e-]+)$/m)).toBeLessThanOrEqual(
      finished.length * longest + 1e-9,
    );
    expect(value(/^sluice_events_delivered_total\{route="crm"\} (\d+)$/m)).toBe(230);
  });

  it('a NOTIFY-less push is still picked up by the poll, and a new row re-arms an idle consumer', async () => {
    const { drain } = await startDrain(route(), { pollMs: 200 });
    await waitFor(() => drain.stats.state === 'idle', 'idle');
    // Insert behind sluice_enqueue's back: no NOTIFY, only the poll can find it.
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source) VALUES (gen_random_uuid(), 'crm', 'account', 'x', 'update', 't')`,
    );
    await waitFor(() => sink.requests.length === 1, 'polled row delivered');
    await waitFor(() => drain.stats.state === 'idle', 'idle again');
  });

  it('retries with backoff, honours Retry-After, and dead-letters after maxAttempts with error, status and excerpt', async () => {
    const r = route({ retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 } });
    sink.respond = (req) =>
      body(req).recordId === 'slow-429'
        ? sink.requests.filter((x) => body(x).recordId === 'slow-429').length === 1
          ? { status: 429, headers: { 'retry-after': '1' } }
          : {}
        : { status: 503, body: 'upstream is down for maintenance' };
    const dead: DeadLetterInfo[] = [];
    const { drain } = await startDrain(r);
    drain.on('deadLettered', (d) => dead.push(d));
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['bad', 'slow-429'] });

    await waitFor(() => dead.length === 1, 'a dead letter');
    const [row] = (
      await db.pool.query(
        `SELECT state, attempts, last_error, last_status, last_response, locked_by FROM event_queue WHERE record_id = 'bad'`,
      )
    ).rows;
    expect(row).toMatchObject({
      state: 'dead',
      attempts: 3,
      last_error: 'HTTP 503',
      last_status: 503,
      last_response: 'upstream is down for maintenance',
      locked_by: null,
    });
    expect(dead[0]).toMatchObject({ route: 'crm', attempts: 3, status: 503, error: 'HTTP 503' });
    expect(sink.requests.filter((x) => body(x).recordId === 'bad')).toHaveLength(3);

    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(*) AS n FROM event_queue WHERE record_id = 'slow-429' AND state = 'done'`,
        )) === 1,
      '429 row delivered on its second try',
    );
    const tries = sink.requests.filter((x) => body(x).recordId === 'slow-429');
    expect(tries).toHaveLength(2);
    // Retry-After: 1 beats the 10 ms backoff.
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(950);
    expect(drain.stats.dead).toBe(1);
    expect(drain.stats.retried).toBeGreaterThanOrEqual(3);
  });

  it('warns about a slow batch, then hands its unfinished row back after stopAfter (attempt kept)', async () => {
    let first = true;
    sink.respond = () => {
      if (!first) return {};
      first = false;
      return { delayMs: 4000 };
    };
    const alerts: DrainAlert[] = [];
    const { drain } = await startDrain(route(), { warnAfterMs: 300, stopAfterMs: 1000 });
    drain.on('alert', (a) => alerts.push(a));
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['hang'] });

    await waitFor(() => alerts.some((a) => a.kind === 'batch-stopped'), 'batch stopped');
    expect(alerts[0]).toMatchObject({ kind: 'batch-slow', batch: { size: 1, started: 1, finished: 0 } });
    expect(alerts[1]).toMatchObject({ kind: 'batch-stopped', released: 1 });
    // Handed back and taken again at once: the second try answers 200.
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 1,
      'row delivered on its second claim',
    );
    const [row] = (await db.pool.query(`SELECT attempts FROM event_queue`)).rows;
    expect(row.attempts).toBe(2);
    expect(drain.stats.released).toBe(1);
    expect(drain.stats.alerts).toBe(2);
  });

  it('renews the claim of a long callout by heartbeat, and recovers rows of a dead worker', async () => {
    // A dead worker's rows: one whose lease ran out, one still leased by a holder that is not the leader.
    await syncRoutes(db.pool, [route()]);
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['ghost1', 'ghost2'] });
    await db.pool.query(
      `UPDATE event_queue SET state = 'running', attempts = 1, locked_by = 'ghost',
              locked_until = CASE record_id WHEN 'ghost1' THEN now() - interval '1 s' ELSE now() + interval '1 hour' END`,
    );
    sink.respond = (req) => (body(req).recordId === 'long' ? { delayMs: 3500 } : {});
    await startDrain(route(), { rowLeaseMs: 1500 });
    await waitFor(() => sink.requests.length === 2, 'ghost rows delivered');
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['long'] });
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 3,
      'long callout settled',
    );
    // The 3.5 s callout outlived its 1.5 s lease only through heartbeats: it was never handed out twice.
    expect(sink.requests.filter((x) => body(x).recordId === 'long')).toHaveLength(1);
  });

  it('two instances split the lanes 16/16 and deliver every row once; lanes taken at a newer term claim nothing at once', async () => {
    const r = route();
    const a = await startDrain(r, {}, 'a');
    await waitFor(() => a.drain.lanes.view.held.length === 32, 'a alone holds every lane');
    const b = await startDrain(r, {}, 'b');
    await waitFor(
      () => a.drain.lanes.view.held.length === 16 && b.drain.lanes.view.held.length === 16,
      'the lanes split 16/16',
    );
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 't',
      ids: Array.from({ length: 200 }, (_, i) => `s${i}`),
    });
    await waitFor(() => a.drain.stats.delivered + b.drain.stats.delivered === 200, '200 rows settled');
    expect(sink.requests).toHaveLength(200);
    expect(new Set(sink.requests.map((x) => body(x).recordId)).size).toBe(200);
    expect(a.drain.stats.delivered).toBeGreaterThan(0);
    expect(b.drain.stats.delivered).toBeGreaterThan(0);

    // Someone else takes every lane (a newer term): neither claims from them, even before its next lease round.
    await db.pool.query(
      `UPDATE sluice_lane SET holder = 'intruder', term = term + 1, expires_at = now() + interval '1 hour'`,
    );
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['after'] });
    a.drain.wake();
    b.drain.wake();
    await waitFor(() => !a.drain.lanes.active && !b.drain.lanes.active, 'both see their lanes lost');
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM event_queue WHERE record_id = 'after' AND state = 'pending'`,
      ),
    ).toBe(1);
    expect(sink.requests).toHaveLength(200);
    expect(a.drain.stats.state).toBe('standby');
    await db.pool.query(`UPDATE sluice_lane SET holder = NULL, expires_at = now()`); // for the tests after this one
  });

  it('stop(): starts no new callouts, lets those in flight finish within the grace, and leaves nothing claimed', async () => {
    sink.respond = () => ({ delayMs: 300 });
    const { drain } = await startDrain(route({ concurrency: 4 }));
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 't',
      ids: Array.from({ length: 100 }, (_, i) => `g${i}`),
    });
    await waitFor(() => sink.requests.length >= 4, 'callouts in flight');
    await drain.stop(5000);
    const calls = sink.requests.length;
    expect(drain.stats.state).toBe('stopped');
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'running'`)).toBe(0);
    // What was called got settled as done; everything else is pending again with no attempt spent.
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)).toBe(calls);
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'pending' AND attempts = 0`),
    ).toBe(100 - calls);
    await new Promise((r) => setTimeout(r, 400));
    expect(sink.requests.length).toBe(calls);
  });

  it('stop() with a callout hanging past the grace hands its row back unclaimed', async () => {
    sink.respond = () => ({ delayMs: 5000 });
    const { drain } = await startDrain(route());
    await enqueue(db.pool, { entity: 'account', op: 'update', source: 't', ids: ['stuck'] });
    await waitFor(() => sink.requests.length === 1, 'callout in flight');
    await drain.stop(200);
    expect(drain.stats.released).toBe(1);
    const [row] = (await db.pool.query(`SELECT state, attempts, locked_by FROM event_queue`)).rows;
    expect(row).toEqual({ state: 'pending', attempts: 0, locked_by: null });
  });
});
