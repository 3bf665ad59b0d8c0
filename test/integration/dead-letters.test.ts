import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

describe('dead letters: list, replay (API)', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const state = (ids: string[]) =>
    db.pool
      .query<{ id: string; state: string; attempts: number }>(
        'SELECT id, state, attempts FROM event_queue WHERE id = ANY($1::bigint[]) ORDER BY id',
        [ids],
      )
      .then((r) => r.rows);

  beforeAll(async () => {
    db = await createTestDb();
    // 422 is the endpoint refusing the change: a permanent failure, a dead letter at once.
    sink = await startSink(() => ({ status: 422, body: 'unknown account' }));
    const route = (name: string, entity: string) => ({
      name,
      match: { entity },
      connector: 'webhook',
      options: { url: `${sink.url}/${name}` },
      retry: { maxAttempts: 3, baseMs: 10, maxMs: 50 },
    });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [route('crm', 'account'), route('erp', 'invoice')],
    });
    expect(
      (await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids: ['a1', 'a2', 'a3'] }))
        .status,
    ).toBe(202);
    expect(
      (await api(svc, 'POST', '/v1/events', { entity: 'invoice', op: 'insert', ids: ['i1'] })).status,
    ).toBe(202);
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)) === 4,
      '4 dead letters',
    );
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('lists dead letters with their last error, newest first, filtered by route and since', async () => {
    const all = await api(svc, 'GET', '/v1/dead-letters');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(4);
    const a1 = all.body.items.find((i: { recordId: string }) => i.recordId === 'a1');
    expect(a1).toMatchObject({ route: 'crm', entity: 'account', op: 'update', attempts: 1, lastStatus: 422 });
    expect(a1.lastResponse).toContain('unknown account');
    expect(a1.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(a1.deadAt)).toBeGreaterThan(Date.now() - 120_000);
    const times = all.body.items.map((i: { deadAt: string }) => Date.parse(i.deadAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const erp = await api(svc, 'GET', '/v1/dead-letters?route=erp');
    expect(erp.body.items.map((i: { recordId: string }) => i.recordId)).toEqual(['i1']);
    const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await api(svc, 'GET', `/v1/dead-letters?since=${future}`)).body.items).toHaveLength(0);
    expect((await api(svc, 'GET', '/v1/dead-letters?limit=2')).body.items).toHaveLength(2);
  });

  it.each([
    ['limit=0', 'invalid_query'],
    ['limit=abc', 'invalid_query'],
    ['limit=100000', 'invalid_query'],
    ["route=crm'%20or%201=1--", 'invalid_query'],
    ['since=yesterday', 'invalid_query'],
    ['colour=blue', 'invalid_query'],
  ])('GET ?%s -> 400', async (qs, code) => {
    const res = await api(svc, 'GET', `/v1/dead-letters?${qs}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
  });

  it.each([
    ['no selector', {}],
    ['ids not integers', { ids: ['1; drop table event_queue'] }],
    ['empty ids', { ids: [] }],
    ['all: false', { all: false }],
    ['unknown field', { route: 'crm', extra: 1 }],
    ['bad route', { route: '../etc' }],
  ])('replay with %s -> 400 and changes nothing', async (_name, body) => {
    const res = await api(svc, 'POST', '/v1/dead-letters/replay', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_body');
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)).toBe(4);
  });

  it('replays one by id: back to pending with attempts reset, delivered by the drain', async () => {
    const { body } = await api(svc, 'GET', '/v1/dead-letters?route=erp');
    const id = body.items[0].id as string;
    expect((await api(svc, 'POST', '/v1/dead-letters/999999999/replay')).status).toBe(404);
    expect((await api(svc, 'POST', '/v1/dead-letters/abc/replay')).body.error.code).toBe('invalid_id');
    sink.respond = () => ({ status: 200 });
    const res = await api(svc, 'POST', `/v1/dead-letters/${id}/replay`);
    expect(res).toMatchObject({ status: 200, body: { replayed: 1 } });
    await waitFor(async () => (await state([id]))[0].state === 'done', 'replayed row delivered');
    // Attempts started again from zero: this delivery was attempt 1.
    expect((await state([id]))[0].attempts).toBe(1);
    // A row that is not dead is not replayed again.
    expect((await api(svc, 'POST', `/v1/dead-letters/${id}/replay`)).status).toBe(404);
  });

  it('replays by route; a second replay finds nothing', async () => {
    const res = await api(svc, 'POST', '/v1/dead-letters/replay', { route: 'crm' });
    expect(res).toMatchObject({ status: 200, body: { replayed: 3 } });
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) === 4,
      'all delivered',
    );
    expect((await api(svc, 'POST', '/v1/dead-letters/replay', { all: true })).body.replayed).toBe(0);
    expect((await api(svc, 'GET', '/v1/dead-letters')).body.items).toHaveLength(0);
  });

  it('counts dead letters and deliveries by route in /metrics', async () => {
    const res = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${svc.key}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/sluice_events_dead_lettered_total\{route="crm"\} 3/);
    expect(text).toMatch(/sluice_events_dead_lettered_total\{route="erp"\} 1/);
    expect(text).toMatch(/sluice_events_delivered_total\{route="crm"\} 3/);
    expect(text).toMatch(/sluice_queue_depth\{route="crm",state="done"\} 3/);
    expect(text).toMatch(/sluice_callout_duration_seconds_count\{route="crm",outcome="4xx"\} 3/);
    expect(text).toMatch(/sluice_events_ingested_total\{source="api"\} \d+/);
  });
});
