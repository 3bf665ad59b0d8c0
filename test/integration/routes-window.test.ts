import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

describe('delivery windows: a route is called only inside its window', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  // The window opens at a whole minute at least 15 s away, and stays open 30 minutes.
  const now = Date.now();
  const opensAt = Math.ceil((now + 15_000) / 60_000) * 60_000;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'erp',
          match: { entity: 'order' },
          connector: 'webhook',
          options: { url: `${sink.url}/erp` },
          window: {
            timeZone: 'UTC',
            ranges: [{ days: ALL_DAYS, from: hhmm(opensAt), to: hhmm(opensAt + 30 * 60_000) }],
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('before the window opens nothing is claimed (0 attempts) and status gives the opening; once open every row is delivered', async () => {
    const pushed = await api(svc, 'POST', '/v1/events', {
      entity: 'order',
      op: 'insert',
      ids: ['o1', 'o2', 'o3'],
    });
    expect(pushed.status).toBe(202);
    const status = await api(svc, 'GET', '/v1/status');
    expect(status.body.routes.erp).toMatchObject({
      closed: 'window',
      paused: false,
      window: { timeZone: 'UTC', open: false, nextOpenAt: new Date(opensAt).toISOString() },
    });
    // Closed until opensAt: wait until shortly before it, nothing may have gone out.
    await new Promise((r) => setTimeout(r, Math.max(0, opensAt - Date.now() - 1_000)));
    expect(sink.requests).toHaveLength(0);
    expect(
      await count(db.pool, `SELECT coalesce(sum(attempts), 0) AS n FROM event_queue WHERE route = 'erp'`),
    ).toBe(0);

    await waitFor(() => sink.requests.length === 3, 'three deliveries once the window opened', {
      timeoutMs: 20_000,
    });
    expect(Math.min(...sink.requests.map((r) => r.at))).toBeGreaterThanOrEqual(opensAt);
    const open = await api(svc, 'GET', '/v1/routes/erp');
    expect(open.body).toMatchObject({ closed: null, window: { open: true, nextOpenAt: null } });
  }, 120_000);
});
