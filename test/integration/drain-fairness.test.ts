import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/** The field report: 2,523 live rows of one route waited while ~100k rows of another drained. */
describe('a backlog on one route does not hold up another', () => {
  let db: TestDb;
  let slow: Sink;
  let fast: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    slow = await startSink(() => ({ delayMs: 5 }));
    fast = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'bulk',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${slow.url}/hook` },
          concurrency: 2,
          coalesce: false,
        },
        {
          name: 'live',
          match: { entity: 'invoice' },
          connector: 'webhook',
          options: { url: `${fast.url}/hook` },
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await slow?.close();
    await fast?.close();
    await db?.drop();
  });

  it('50 single pushes to a second route are all delivered while a 20,000-row backlog of the first is still mostly waiting', async () => {
    for (let i = 0; i < 20; i++) {
      const ids = Array.from({ length: 1000 }, (_, k) => `a${i * 1000 + k}`);
      expect((await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids })).status).toBe(
        202,
      );
    }
    // The backlog is being drained (the slow route's window is full) before the live pushes arrive.
    await waitFor(() => slow.requests.length > 100, 'the backlog to start draining');
    for (let i = 0; i < 50; i++) {
      const res = await api(svc, 'POST', '/v1/events', { entity: 'invoice', op: 'update', ids: [`i${i}`] });
      expect(res.status).toBe(202);
    }
    await waitFor(() => fast.requests.length >= 50, 'the 50 live rows delivered', { timeoutMs: 20_000 });
    const waiting = await count(
      db.pool,
      `SELECT count(*) AS n FROM event_queue WHERE route = 'bulk' AND state <> 'done'`,
    );
    expect(waiting).toBeGreaterThan(10_000);
  });
});
