import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/**
 * The field report: a drain that stopped delivering while /healthz and /readyz said 200. Here the claim
 * (or, when the rows were claimed first, the settle) is made to hang on a lock the test holds on event_queue (EXCLUSIVE: writes wait, reads go on).
 */
describe('the drain watchdog, in the whole service', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const logs: string[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
        },
      ],
      env: {
        SLUICE_STALL_AFTER_MS: '1500',
        SLUICE_STATEMENT_TIMEOUT_MS: '500',
        SLUICE_LEADER_TTL_MS: '3000',
      },
      logDestination: { write: (line) => void logs.push(line) },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it("the drain's queries held up by a lock on event_queue: an error log naming the stuck query (claim or settle), consumer stalled in status, sluice_drain_stalled 1, /readyz 503 drain_stalled; once the lock goes, everything is delivered and /readyz is 200 again", async () => {
    expect((await api(svc, 'GET', '/readyz')).status).toBe(200);
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      const ids = Array.from({ length: 200 }, (_, i) => `a${i}`);
      // The push commits before the lock: its rows are waiting when the claim hangs.
      expect((await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids })).status).toBe(
        202,
      );
      await locker.query('LOCK TABLE event_queue IN EXCLUSIVE MODE');

      const ready = await waitFor(
        async () => {
          const r = await api(svc, 'GET', '/readyz');
          return r.status === 503 ? r : null;
        },
        '/readyz to answer 503',
        { timeoutMs: 20_000 },
      );
      const [status, metrics] = await Promise.all([
        api(svc, 'GET', '/v1/status'),
        fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${svc.key}` } }).then((r) =>
          r.text(),
        ),
      ]);
      expect(ready.body.error.code).toBe('drain_stalled');
      expect(ready.body.error.message).toMatch(/claim|settle|none settled/);
      expect(status.body.consumer.state).toBe('stalled');
      expect(status.body.consumer.stalled).toMatch(/claim|settle|none settled/);
      expect(metrics).toMatch(/^sluice_drain_stalled 1$/m);
      const stallLine = logs
        .map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string })
        .find((l) => l.msg === 'drain stalled');
      expect(stallLine?.level).toBe(50);
      expect(stallLine?.reason).toMatch(/claim|settle|none settled/);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 200,
      'all 200 rows delivered',
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor(async () => (await api(svc, 'GET', '/readyz')).status === 200, '/readyz 200 again', {
      timeoutMs: 10_000,
    });
    expect((await api(svc, 'GET', '/v1/status')).body.consumer.stalled).toBeNull();
    expect(new Set(sink.requests.map((r) => JSON.parse(r.body).recordId)).size).toBe(200);
  });
});
