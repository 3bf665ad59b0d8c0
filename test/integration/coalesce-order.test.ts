import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { enqueue } from '../../src/db/queue/enqueue';
import { RouteSchema } from '../../src/config/route-schema';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { readTopic } from '../helpers/kafka';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const route = (name: string, entity: string, url: string, extra: object = {}) => ({
  name,
  match: { entity },
  connector: 'webhook',
  options: { url },
  ...extra,
});

describe('coalescing while a change waits unclaimed', () => {
  let db: TestDb;
  let sink: Sink;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
  });
  afterAll(async () => {
    await sink?.close();
    await db?.drop();
  });

  it('5,000 updates to 50 records make 50 callouts with the latest payload', async () => {
    await syncRoutes(db.pool, [
      RouteSchema.parse(route('crm', 'account', `${sink.url}/crm`)),
      RouteSchema.parse(route('audit', 'account', `${sink.url}/audit`, { coalesce: false, enabled: false })),
    ]);
    const ids = Array.from({ length: 50 }, (_, i) => `acc-${i}`);
    // 100 rounds of updates to the same 50 records, each its own statement, queued before any drain runs.
    for (let round = 0; round < 100; round++) {
      await enqueue(db.pool, {
        entity: 'account',
        op: 'update',
        source: 'test',
        ids,
        payloads: ids.map(() => ({ round })),
      });
    }
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log`)).toBe(5000);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n, sum(merged_count)::int AS merged, min((payload->>'round')::int) AS min_round
         FROM event_queue WHERE route = 'crm'`,
    );
    expect(rows[0]).toEqual({ n: 50, merged: 4950, min_round: 99 });

    const svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [route('crm', 'account', `${sink.url}/crm`)],
    });
    try {
      await waitFor(
        async () =>
          (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 50,
        '50 rows done',
      );
      expect(sink.requests.filter((r) => r.path === '/crm')).toHaveLength(50);
      for (const r of sink.requests) expect(JSON.parse(r.body).payload).toEqual({ round: 99 });
    } finally {
      await svc.stop();
    }
  });

  it('a route with coalesce off queues every change', async () => {
    await db.pool.query(`DELETE FROM event_queue`);
    await syncRoutes(db.pool, [
      RouteSchema.parse(route('audit', 'ledger', 'http://127.0.0.1:9/x', { coalesce: false })),
    ]);
    for (let round = 0; round < 20; round++) {
      await enqueue(db.pool, { entity: 'ledger', op: 'update', source: 'test', ids: ['l-1', 'l-2'] });
    }
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'audit'`)).toBe(40);
  });

  it('a delete is never merged away behind a later insert; a running row is never merged into', async () => {
    await db.pool.query(`DELETE FROM event_queue`);
    await syncRoutes(db.pool, [RouteSchema.parse(route('crm', 'doc', 'http://127.0.0.1:9/x'))]);
    const push = (op: 'insert' | 'update' | 'delete', seq: number) =>
      enqueue(db.pool, { entity: 'doc', op, source: 'test', ids: ['d-1'], payloads: [{ seq }] });
    const live = async () =>
      (
        await db.pool.query(
          `SELECT op, state, merged_count, payload->>'seq' AS seq FROM event_queue WHERE record_id = 'd-1' ORDER BY id`,
        )
      ).rows;
    await push('update', 1);
    await push('delete', 2); // latest op wins: the waiting update becomes the delete
    await push('insert', 3); // not merged behind the delete
    await push('update', 4); // merged into the insert
    expect(await live()).toEqual([
      { op: 'delete', state: 'pending', merged_count: 1, seq: '2' },
      { op: 'update', state: 'pending', merged_count: 1, seq: '4' },
    ]);
    // Once claimed (running), a row is being delivered: a newer change queues behind it.
    await db.pool.query(`UPDATE event_queue SET state = 'running' WHERE record_id = 'd-1'`);
    await push('update', 5);
    expect((await live()).map((r) => [r.state, r.seq])).toEqual([
      ['running', '2'],
      ['running', '4'],
      ['pending', '5'],
    ]);
  });
});

describe('order: one record is delivered and published in commit order, never twice at once', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink(() => ({ delayMs: 15 }));
    svc = await startTestService({
      databaseUrl: db.url,
      routes: [route('crm', 'account', `${sink.url}/hook`, { coalesce: false, concurrency: 8 })],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('keeps per-record order through the drain and Kafka', async () => {
    const records = ['a', 'b', 'c', 'd'];
    for (let seq = 0; seq < 12; seq++) {
      const res = await api(svc, 'POST', '/v1/events', {
        entity: 'account',
        op: 'update',
        ids: records,
        payload: { seq },
      });
      expect(res.status).toBe(202);
    }
    await waitFor(() => sink.requests.length >= 48, '48 callouts');
    for (const id of records) {
      const mine = sink.requests.filter((r) => JSON.parse(r.body).recordId === id);
      expect(mine.map((r) => JSON.parse(r.body).payload.seq)).toEqual([...Array(12).keys()]);
      // The next call of a record arrives only after the previous one was answered (15 ms later).
      for (let i = 1; i < mine.length; i++) expect(mine[i].at - mine[i - 1].at).toBeGreaterThanOrEqual(14);
    }
    const messages = await readTopic(svc.topic, 48);
    for (const id of records) {
      const seqs = messages
        .filter((m) => m.key!.toString() === `account:${id}`)
        .map((m) => JSON.parse(m.value!.toString()).payload.seq);
      expect(seqs).toEqual([...Array(12).keys()]);
    }
  });

  it('publishes a change that commits late with a lower id (the relay looks back from the start)', async () => {
    const unpublished = async (rec: string) =>
      count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id = $1 AND published_at IS NULL`, [
        rec,
      ]);
    const late = await db.pool.connect();
    try {
      await late.query('BEGIN');
      await enqueue(late, { entity: 'account', op: 'update', source: 'test', ids: ['late'] });
      await enqueue(db.pool, { entity: 'account', op: 'update', source: 'test', ids: ['early'] });
      await waitFor(async () => (await unpublished('early')) === 0, 'the committed change published');
      await late.query('COMMIT');
    } finally {
      late.release();
    }
    svc.relay?.wake();
    await waitFor(async () => (await unpublished('late')) === 0, 'the late change published');
  });
});
