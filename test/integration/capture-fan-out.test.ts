import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture, removeCapture } from '../../src/capture/triggers';
import { captureBacklog } from '../../src/db/capture/backlog';
import { fanOutAll, fanOutCaptures } from '../../src/db/capture/fan-out';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/** Trigger captures are journaled in the writer's transaction and fanned out into events after commit. */
describe('capture journal and fan-out', () => {
  let db: TestDb;
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  const events = async (entity: string) =>
    (
      await q(`SELECT record_id, op, payload FROM event_log WHERE entity = $1 ORDER BY id`, [entity])
    ).rows.map((r: { record_id: string; op: string; payload: unknown }) => [r.record_id, r.op, r.payload]);

  beforeAll(async () => {
    db = await createTestDb();
    await q(`INSERT INTO sluice_route (name, entity, coalesce) VALUES ('all', '*', false)`);
    await q(`
      CREATE TABLE latest_t (id bigint PRIMARY KEY, v text);
      CREATE TABLE exact_t (id bigint PRIMARY KEY, v text);
      CREATE TABLE big_t (id bigint PRIMARY KEY, n int);
      CREATE TABLE loose_t (k text, v text);
    `);
    await addCapture(db.pool, { table: 'latest_t' });
    await addCapture(db.pool, { table: 'exact_t', payload: 'exact' });
    await addCapture(db.pool, { table: 'big_t' });
    await addCapture(db.pool, { table: 'loose_t', idColumn: 'k' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('latest: payloads are the row at fan-out; a row gone by then has none, its delete carries it', async () => {
    await q(`INSERT INTO latest_t VALUES (1, 'a'), (2, 'a')`);
    await q(`UPDATE latest_t SET v = 'b'`);
    await q(`UPDATE latest_t SET v = 'c' WHERE id = 1`);
    await q(`DELETE FROM latest_t WHERE id = 2`);
    expect(await captureBacklog(db.pool)).toMatchObject({ changes: 6 });
    expect(await fanOutAll(db.pool)).toBe(6);
    expect(await captureBacklog(db.pool)).toEqual({ changes: 0, oldestAgeMs: null });
    expect(await events('latest_t')).toEqual([
      ['1', 'insert', { id: 1, v: 'c' }],
      ['2', 'insert', null],
      ['1', 'update', { id: 1, v: 'c' }],
      ['2', 'update', null],
      ['1', 'update', { id: 1, v: 'c' }],
      ['2', 'delete', { id: 2, v: 'b' }],
    ]);
  });

  it('exact: every event carries the row image its statement wrote', async () => {
    await q(`INSERT INTO exact_t VALUES (1, 'a')`);
    await q(`UPDATE exact_t SET v = 'b'`);
    await q(`UPDATE exact_t SET id = 10`);
    await q(`DELETE FROM exact_t`);
    await fanOutAll(db.pool);
    // Order is per record (as on Kafka, where it is per key).
    const ev = await events('exact_t');
    expect(ev.filter((e) => e[0] === '1')).toEqual([
      ['1', 'insert', { id: 1, v: 'a' }],
      ['1', 'update', { id: 1, v: 'b' }],
      ['1', 'delete', { id: 1, v: 'b' }],
    ]);
    expect(ev.filter((e) => e[0] === '10')).toEqual([
      ['10', 'insert', { id: 10, v: 'b' }],
      ['10', 'delete', { id: 10, v: 'b' }],
    ]);
  });

  it('a key column that is not unique still pairs one payload with each id', async () => {
    await q(`INSERT INTO loose_t VALUES ('x', '1'), ('y', '2')`);
    await q(`INSERT INTO loose_t VALUES ('x', '3')`);
    await fanOutAll(db.pool);
    const ev = await events('loose_t');
    expect(ev.map((e) => e[0])).toEqual(['x', 'y', 'x']);
    expect(ev[1][2]).toEqual({ k: 'y', v: '2' });
    expect(['1', '3']).toContain((ev[0][2] as { v: string }).v);
  });

  it('a big statement goes out in slices, before a later change to one of its records', async () => {
    await q(`INSERT INTO big_t SELECT g, 0 FROM generate_series(1, 25000) g`);
    await q(`UPDATE big_t SET n = 1 WHERE id = 7`);
    // Three slices of the 25,000, then the one-row statement.
    expect(await fanOutCaptures(db.pool, 10_000)).toBe(10_000);
    expect(await captureBacklog(db.pool)).toMatchObject({ changes: 15_001 });
    expect(await fanOutAll(db.pool, 10_000)).toBe(15_001);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE entity = 'big_t'`)).toBe(25_001);
    const seven = await q(
      `SELECT op FROM event_queue WHERE entity = 'big_t' AND record_id = '7' ORDER BY id`,
    );
    expect(seven.rows.map((r: { op: string }) => r.op)).toEqual(['insert', 'update']);
  });

  it('many small statements go out in a few calls, each record in its own order', async () => {
    await q(`CREATE TABLE oltp_t (id int PRIMARY KEY, n int)`);
    await addCapture(db.pool, { table: 'oltp_t', payload: 'exact' });
    await q(`INSERT INTO oltp_t SELECT g, 0 FROM generate_series(1, 50) g`);
    await fanOutAll(db.pool);
    // 600 one-row statements: 12 updates of each of 50 records, interleaved, and a delete of record 7.
    await q(
      `DO $$ BEGIN FOR i IN 0..599 LOOP UPDATE oltp_t SET n = n + 1 WHERE id = i % 50 + 1; END LOOP; END $$`,
    );
    await q(`DELETE FROM oltp_t WHERE id = 7`);
    expect(await count(db.pool, `SELECT count(*) AS n FROM sluice_capture_batch`)).toBe(601);
    expect(await fanOutCaptures(db.pool, 10_000)).toBe(601);
    const ev = (await events('oltp_t')).filter((e) => e[1] !== 'insert');
    expect(ev).toHaveLength(601);
    for (let id = 1; id <= 50; id++) {
      const mine = ev.filter((e) => e[0] === String(id));
      const ns = mine.filter((e) => e[1] === 'update').map((e) => (e[2] as { n: number }).n);
      expect(ns).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      if (id === 7) expect(mine.at(-1)).toEqual(['7', 'delete', { id: 7, n: 12 }]);
    }
  });

  it('one fan-out at a time: a second one steps back (-1) and loses nothing', async () => {
    await q(`INSERT INTO latest_t VALUES (50, 'x')`);
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      expect((await holder.query(`SELECT sluice_fan_out_captures(1) AS n`)).rows[0].n).toBe(1);
      await q(`INSERT INTO latest_t VALUES (51, 'y')`);
      expect(await fanOutCaptures(db.pool, 100)).toBe(-1);
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await fanOutAll(db.pool)).toBe(1);
    const ids = (await events('latest_t')).map((e) => e[0]);
    expect(ids.slice(-2)).toEqual(['50', '51']);
  });

  it('a rolled-back fan-out leaves the journal as it was (redone later)', async () => {
    await q(`INSERT INTO latest_t VALUES (60, 'x')`);
    const before = await count(db.pool, `SELECT count(*) AS n FROM event_log`);
    const c = await db.pool.connect();
    try {
      await c.query('BEGIN');
      expect((await c.query(`SELECT sluice_fan_out_captures(100) AS n`)).rows[0].n).toBe(1);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    expect(await captureBacklog(db.pool)).toMatchObject({ changes: 1 });
    expect(await fanOutAll(db.pool)).toBe(1);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log`)).toBe(before + 1);
  });

  it('changes journaled before a capture is removed still go out, without a payload', async () => {
    await q(`CREATE TABLE gone_t (id int PRIMARY KEY)`);
    await addCapture(db.pool, { table: 'gone_t' });
    await q(`INSERT INTO gone_t VALUES (1)`);
    await removeCapture(db.pool, 'gone_t');
    expect(await fanOutAll(db.pool)).toBe(1);
    expect(await events('gone_t')).toEqual([['1', 'insert', null]]);
  });
});

describe('the service fans captures out by itself and delivers them', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, plan text)`);
    await addCapture(db.pool, { table: 'accounts', entity: 'account' });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      // A long poll: the drain has to be woken by the fan-out, which finds the changes itself (triggers
      // send no NOTIFY).
      env: { SLUICE_POLL_MS: '60000' },
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
          concurrency: 8,
          coalesce: false,
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('a 2,000-row INSERT and UPDATE reach the sink within seconds; status shows the capture part', async () => {
    await db.pool.query(`INSERT INTO accounts SELECT g, 'free' FROM generate_series(1, 2000) g`);
    await db.pool.query(`UPDATE accounts SET plan = 'gold' WHERE id <= 1000`);
    await waitFor(() => sink.requests.length >= 3000, '3,000 callouts', { timeoutMs: 20_000 });
    const bodies = sink.requests.map((r) => JSON.parse(r.body) as { recordId: string; op: string });
    expect(new Set(bodies.map((b) => `${b.recordId}:${b.op}`)).size).toBe(3000);
    const status = await api(svc, 'GET', '/v1/status');
    expect(status.body.capture).toMatchObject({ backlog: { changes: 0 } });
    expect(status.body.capture.fannedOut).toBe(3000);
    const metrics = await (
      await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${svc.key}` } })
    ).text();
    expect(metrics).toMatch(/sluice_capture_backlog_changes 0/);
    // The counter is process-wide: other test files' services in this worker may have added to it.
    expect(
      Number(/sluice_events_ingested_total\{source="trigger"\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(3000);
  });
});
