import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

describe('/v1/processes, /v1/runs, /v1/planner/log and the planner in the service', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, plan text);
      INSERT INTO accounts SELECT g, 'gold' FROM generate_series(1, 300) g;`);
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: 'accounts' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
        },
      ],
      env: { SLUICE_PLANNER_TICK_MS: '200', SLUICE_MAX_ACTIVE: '3' },
      backfill: { tables: ['public.accounts'] },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  const def = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    handler: 'sync',
    kind: 'single',
    params: { entity: 'accounts', ids: ['1', '2'] },
    ...extra,
  });

  it('registers, runs a backfill through the planner, and shows runs, log and status', async () => {
    const created = await api(svc, 'POST', '/v1/processes', {
      name: 'nightly-enrich',
      handler: 'backfill',
      kind: 'recurrent',
      schedule: '0 3 * * *',
      params: { table: 'accounts', route: 'crm', page: 50, threads: 2 },
      priority: 5,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'nightly-enrich',
      handler: 'backfill',
      kind: 'recurrent',
      schedule: '0 3 * * *',
      notBefore: null,
      dependsOn: [],
      priority: 5,
      refreshWindowMinutes: 0,
      enabled: true,
      alarmed: false,
      lastRun: null,
    });
    const list = await api(svc, 'GET', '/v1/processes');
    expect(list.status).toBe(200);
    expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['nightly-enrich']);

    const run = await api(svc, 'POST', '/v1/processes/nightly-enrich/run');
    expect(run.status).toBe(202);
    expect(run.body.runId).toMatch(/^[0-9a-f-]{36}$/);
    const done = await waitFor(async () => {
      const r = await api(svc, 'GET', '/v1/processes/nightly-enrich/runs');
      return r.body.items.find(
        (x: { id: string; status: string }) => x.id === run.body.runId && x.status === 'succeeded',
      );
    }, 'the backfill run to succeed');
    expect(done).toMatchObject({ trigger: 'manual', instance: svc.instance });
    expect(done.progress).toMatchObject({ rowsDone: 300, rowsTotal: 300, pagesFinished: 6 });
    await waitFor(() => sink.requests.length >= 300, '300 rows delivered to the route');

    const log = await api(svc, 'GET', '/v1/planner/log?limit=10');
    expect(log.status).toBe(200);
    expect(log.body.items[0]).toMatchObject({
      process: 'nightly-enrich',
      decision: 'started',
      runId: run.body.runId,
    });
    const status = await api(svc, 'GET', '/v1/status');
    expect(status.body.planner).toMatchObject({ maxActive: 3, active: 0, runs: [], backfills: [] });
    expect((await api(svc, 'GET', '/v1/runs?active=true')).body.items).toEqual([]);
    expect((await api(svc, 'GET', '/v1/runs')).body.items[0].id).toBe(run.body.runId);
  });

  it('a registered single sync process runs by itself (registry change wakes the planner)', async () => {
    const before = sink.requests.length;
    expect((await api(svc, 'POST', '/v1/processes', def('sync-two'))).status).toBe(201);
    await waitFor(
      async () => (await api(svc, 'GET', '/v1/processes/sync-two')).body.lastRun?.status === 'succeeded',
      'sync ran',
    );
    await waitFor(() => sink.requests.length >= before + 2, 'two synced records delivered');
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE source = 'sync:sync-two'`)).toBe(
      2,
    );
  });

  it('refuses bad definitions, cycles, unknown names and overlapping runs with clear 4xx errors', async () => {
    const bad = async (method: string, path: string, body: unknown, status: number, code: string) => {
      const r = await api(svc, method, path, body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe('string');
      return r.body.error.message as string;
    };
    await bad('POST', '/v1/processes', { name: 'x' }, 400, 'invalid_body');
    await bad('POST', '/v1/processes', def('bad name!'), 400, 'invalid_body');
    await bad('POST', '/v1/processes', { ...def('x'), extra: 1 }, 400, 'invalid_body');
    await bad('POST', '/v1/processes', def('x', { handler: 'nope' }), 400, 'unknown_handler');
    await bad('POST', '/v1/processes', def('x', { params: { entity: 'accounts' } }), 400, 'invalid_params');
    await bad('POST', '/v1/processes', def('x', { kind: 'recurrent' }), 400, 'invalid_schedule');
    await bad(
      'POST',
      '/v1/processes',
      def('x', { kind: 'recurrent', schedule: 'sometimes' }),
      400,
      'invalid_schedule',
    );
    await bad('POST', '/v1/processes', def('x', { notBefore: '25:00' }), 400, 'invalid_schedule');
    await bad('POST', '/v1/processes', def('x', { dependsOn: ['ghost'] }), 400, 'unknown_dependency');

    expect((await api(svc, 'POST', '/v1/processes', def('a', { enabled: false }))).status).toBe(201);
    expect(
      (await api(svc, 'POST', '/v1/processes', def('b', { dependsOn: ['a'], enabled: false }))).status,
    ).toBe(201);
    const msg = await bad('PATCH', '/v1/processes/a', { dependsOn: ['b'] }, 400, 'dependency_cycle');
    expect(msg).toBe('dependency cycle refused: a -> b -> a');
    await bad(
      'POST',
      '/v1/processes',
      def('a', { dependsOn: ['b'], enabled: false }),
      400,
      'dependency_cycle',
    );
    await bad('PATCH', '/v1/processes/a', { priority: 'high' }, 400, 'invalid_body');
    await bad('PATCH', '/v1/processes/ghost', { priority: 1 }, 404, 'not_found');
    await bad('DELETE', '/v1/processes/a', undefined, 409, 'has_dependents');
    await bad('DELETE', '/v1/processes/ghost', undefined, 404, 'not_found');
    await bad('POST', '/v1/processes/ghost/run', undefined, 404, 'not_found');
    await bad('POST', '/v1/processes/a/run', undefined, 409, 'process_disabled');
    await bad('GET', '/v1/processes/ghost/runs', undefined, 404, 'not_found');
    await bad('GET', '/v1/planner/log?limit=0', undefined, 400, 'invalid_query');
    await bad('GET', '/v1/runs?active=yes', undefined, 400, 'invalid_query');

    const patched = await api(svc, 'PATCH', '/v1/processes/b', { priority: 9, dependsOn: [] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ priority: 9, dependsOn: [] });
    expect((await api(svc, 'DELETE', '/v1/processes/a')).status).toBe(204);
    expect((await api(svc, 'GET', '/v1/processes/a')).status).toBe(404);
    expect((await api(svc, 'GET', '/v1/processes', undefined, {})).status).toBe(401);
  });
});
