import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallers } from '../../src/callout/build-callers';
import { parseConfigFile } from '../../src/config/load';
import { RouteSchema } from '../../src/config/route-schema';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const hook = (name: string, url: string, extra: object = {}) => ({
  name,
  match: { entity: name },
  connector: 'webhook',
  options: { url },
  ...extra,
});

describe('routes managed while running: /v1/routes', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const push = (entity: string, ids: string[]) =>
    api(svc, 'POST', '/v1/events', { entity, op: 'update', ids }).then((r) => {
      expect(r.status).toBe(202);
    });
  const paths = (prefix: string) => sink.requests.filter((r) => r.path.startsWith(prefix)).length;
  const rowsOf = (route: string, state: string) =>
    count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = $1 AND state = $2`, [route, state]);

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({ databaseUrl: db.url, kafka: false, routes: [] });
  });

  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('POST creates a route that delivers at once; PATCH sends the next rows to the new URL; DELETE removes it', async () => {
    const created = await api(svc, 'POST', '/v1/routes', hook('crm', `${sink.url}/one`));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'crm', origin: 'api', paused: false, closed: null });
    await push('crm', ['a1', 'a2']);
    await waitFor(() => paths('/one') === 2, 'two deliveries to /one');

    const patched = await api(svc, 'PATCH', '/v1/routes/crm', { options: { url: `${sink.url}/two` } });
    expect(patched.status).toBe(200);
    expect(patched.body.config.options.url).toBe(`${sink.url}/two`);
    await push('crm', ['a3']);
    await waitFor(() => paths('/two') === 1, 'one delivery to /two');
    expect(paths('/one')).toBe(2);

    const listed = await api(svc, 'GET', '/v1/routes');
    expect(listed.body.items.map((r: { name: string }) => r.name)).toEqual(['crm']);
    await waitFor(async () => (await rowsOf('crm', 'done')) === 3, 'three rows done');
    const deleted = await api(svc, 'DELETE', '/v1/routes/crm');
    expect(deleted).toMatchObject({ status: 200, body: { deleted: 'crm', deadLettered: 0 } });
    expect((await api(svc, 'GET', '/v1/routes/crm')).status).toBe(404);
    // No route: a push for the entity queues nothing more.
    await push('crm', ['a4']);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'crm'`)).toBe(3);
  });

  it('a bad route is refused with 400 invalid_route carrying the route file validation lines; nothing is stored', async () => {
    const badOptions = hook('bad', 'not a url');
    const res = await api(svc, 'POST', '/v1/routes', badOptions);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_route');
    // The file path at start: the same connector check, the same line.
    const fileError = (() => {
      try {
        buildCallers([RouteSchema.parse(badOptions)]);
      } catch (err) {
        return (err as Error).message;
      }
    })()!;
    const apiLines = res.body.error.details as string[];
    expect(apiLines.length).toBeGreaterThan(0);
    for (const line of apiLines) expect(fileError.split('\n')).toContain(line);

    const badSchema = { ...hook('bad2', `${sink.url}/x`), match: { entity: 'no spaces allowed' }, extra: 1 };
    const res2 = await api(svc, 'POST', '/v1/routes', badSchema);
    expect(res2.status).toBe(400);
    let fileText = '';
    try {
      parseConfigFile(JSON.stringify({ routes: [badSchema] }), 'sluice.config.json');
    } catch (err) {
      fileText = (err as Error).message;
    }
    // Same field, same message: `routes[0].match.entity (route "bad2"): X` in the file, `route "bad2": match.entity: X` here.
    for (const line of res2.body.error.details as string[]) {
      const [, field, message] = /^route "bad2": ([^:]+): (.*)$/.exec(line)!;
      const fileField = field === '(root)' ? 'routes[0]' : `routes[0].${field}`;
      expect(fileText).toContain(`${fileField} (route "bad2"): ${message}`);
    }
    expect((await api(svc, 'PATCH', '/v1/routes/nope', { concurrency: 2 })).status).toBe(404);
    expect((await api(svc, 'GET', '/v1/routes')).body.items.map((r: { name: string }) => r.name)).toEqual([]);
  });

  it('PATCH with an invalid value or a rename is a 400 and leaves the route as it was', async () => {
    expect((await api(svc, 'POST', '/v1/routes', hook('erp', `${sink.url}/erp`))).status).toBe(201);
    const bad = await api(svc, 'PATCH', '/v1/routes/erp', { concurrency: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.stringMatching(/^route "erp": concurrency: /)]);
    const rename = await api(svc, 'PATCH', '/v1/routes/erp', { name: 'erp2' });
    expect(rename).toMatchObject({ status: 400, body: { error: { code: 'rename_refused' } } });
    const dup = await api(svc, 'POST', '/v1/routes', hook('erp', `${sink.url}/other`));
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'route_exists' } } });
    const now = await api(svc, 'GET', '/v1/routes/erp');
    expect(now.body.config).toMatchObject({ concurrency: 16, options: { url: `${sink.url}/erp` } });
  });

  it('pause: pushed rows wait unclaimed (0 attempts, status says paused); resume: each is delivered once', async () => {
    expect((await api(svc, 'POST', '/v1/routes/erp/pause')).body).toMatchObject({
      paused: true,
      closed: 'paused',
    });
    const before = paths('/erp');
    await push('erp', ['e1', 'e2', 'e3']);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(paths('/erp')).toBe(before);
    expect(await rowsOf('erp', 'pending')).toBe(3);
    expect(
      await count(db.pool, `SELECT coalesce(sum(attempts), 0) AS n FROM event_queue WHERE route = 'erp'`),
    ).toBe(0);
    const status = await api(svc, 'GET', '/v1/status');
    expect(status.body.routes.erp).toMatchObject({ closed: 'paused', paused: true, pausedBy: 'api' });
    expect(status.body.warnings).toContain('route erp is paused: its rows wait until it is resumed');

    expect((await api(svc, 'POST', '/v1/routes/erp/resume')).body).toMatchObject({
      paused: false,
      closed: null,
    });
    await waitFor(async () => (await rowsOf('erp', 'done')) === 3, 'three rows done after resume');
    expect(paths('/erp')).toBe(before + 3);
  });

  it('DELETE of a route with waiting rows is a 409 naming them; with force they become dead letters', async () => {
    await api(svc, 'POST', '/v1/routes/erp/pause');
    await push('erp', ['d1', 'd2']);
    const refused = await api(svc, 'DELETE', '/v1/routes/erp');
    expect(refused).toMatchObject({
      status: 409,
      body: { error: { code: 'route_has_rows', details: { pending: 2, running: 0 } } },
    });
    const forced = await api(svc, 'DELETE', '/v1/routes/erp?force=true');
    expect(forced).toMatchObject({ status: 200, body: { deleted: 'erp', deadLettered: 2 } });
    const dead = await api(svc, 'GET', '/v1/dead-letters?route=erp');
    expect(dead.body.items).toHaveLength(2);
    expect(dead.body.items[0].lastError).toBe('route "erp" deleted (by api)');
    expect((await api(svc, 'DELETE', '/v1/routes/erp?force=maybe')).status).toBe(400);
  });

  it('every /v1/routes endpoint needs the API key and is in the OpenAPI document', async () => {
    expect((await api(svc, 'GET', '/v1/routes', undefined, {})).status).toBe(401);
    expect((await api(svc, 'POST', '/v1/routes/x/pause', undefined, {})).status).toBe(401);
    const doc = await api(svc, 'GET', '/docs/json');
    for (const path of [
      '/v1/routes',
      '/v1/routes/{name}',
      '/v1/routes/{name}/pause',
      '/v1/routes/{name}/resume',
    ])
      expect(Object.keys(doc.body.paths)).toContain(path);
    expect(Object.keys(doc.body.paths['/v1/routes/{name}'])).toEqual(
      expect.arrayContaining(['get', 'patch', 'delete']),
    );
  });
});
