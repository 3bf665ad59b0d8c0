import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { readTopic } from '../helpers/kafka';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

describe('a filtered route in the running service: push -> sink and Kafka', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      routes: [
        {
          name: 'gold-only',
          match: { entity: 'account', where: { field: 'plan', in: ['gold', 'platinum'] } },
          connector: 'webhook',
          options: { url: `${sink.url}/gold` },
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('delivers only the matching changes to the route while Kafka gets every change', async () => {
    const push = (ids: string[], plan: string) =>
      api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids, payload: { plan } });
    expect((await push(['g-1', 'g-2'], 'gold')).status).toBe(202);
    expect((await push(['f-1', 'f-2', 'f-3'], 'free')).status).toBe(202);
    expect((await push(['p-1'], 'platinum')).status).toBe(202);
    const messages = await readTopic(svc.topic, 6);
    expect(messages.map((m) => String(m.key)).sort()).toEqual(
      ['f-1', 'f-2', 'f-3', 'g-1', 'g-2', 'p-1'].map((id) => `account:${id}`),
    );
    await waitFor(() => sink.requests.length >= 3, 'three callouts');
    // The drain is idle and every queued row is done: nothing else is coming.
    await waitFor(
      async () =>
        Number(
          (await db.pool.query(`SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`)).rows[0].n,
        ) === 0,
      'an empty queue',
    );
    expect(sink.requests.map((r) => JSON.parse(r.body).recordId).sort()).toEqual(['g-1', 'g-2', 'p-1']);
  });
});
