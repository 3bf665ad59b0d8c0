import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService, TEST_KEY } from '../helpers/service';

describe('POST /v1/events rejects bad input and adds no row', () => {
  let db: TestDb;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const rowsNow = () =>
    count(db.pool, 'SELECT (SELECT count(*) FROM event_log) + (SELECT count(*) FROM event_queue) AS n');

  beforeAll(async () => {
    db = await createTestDb();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: '*' },
          connector: 'webhook',
          options: { url: 'http://127.0.0.1:9/x' },
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  const good = { entity: 'account', op: 'update', ids: ['1'] };
  const badBodies: Array<[string, unknown, string]> = [
    ['malformed JSON', '{"entity":', 'invalid_json'],
    ['empty object', {}, 'invalid_body'],
    ['unknown op', { ...good, op: 'merge' }, 'invalid_body'],
    ['no ids', { ...good, ids: [] }, 'invalid_body'],
    ['too many ids', { ...good, ids: Array.from({ length: 10_001 }, (_, i) => String(i)) }, 'invalid_body'],
    ['non-string id', { ...good, ids: [1] }, 'invalid_body'],
    ['empty id', { ...good, ids: [''] }, 'invalid_body'],
    ['overlong id', { ...good, ids: ['x'.repeat(257)] }, 'invalid_body'],
    ['wildcard entity', { ...good, entity: '*' }, 'invalid_body'],
    ['entity with SQL', { ...good, entity: "a'; drop table event_queue; --" }, 'invalid_body'],
    ['unknown field', { ...good, extra: true }, 'invalid_body'],
    ['array body', [good], 'invalid_body'],
    ['bad source', { ...good, source: 'has space' }, 'invalid_body'],
  ];

  it.each(badBodies)('%s -> 400', async (_name, body, code) => {
    const res = await api(svc, 'POST', '/v1/events', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe('string');
    expect(await rowsNow()).toBe(0);
  });

  it('wrong content type -> 415', async () => {
    const res = await api(svc, 'POST', '/v1/events', 'entity=account', {
      authorization: `Bearer ${TEST_KEY}`,
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(await rowsNow()).toBe(0);
  });

  it.each([
    ['no key', {}],
    ['wrong key', { authorization: 'Bearer nope' }],
    ['not bearer', { authorization: `Basic ${TEST_KEY}` }],
    ['key plus junk', { authorization: `Bearer ${TEST_KEY}x` }],
  ])('%s -> 401', async (_name, headers) => {
    const res = await api(svc, 'POST', '/v1/events', good, headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(await rowsNow()).toBe(0);
  });

  it('unknown routes -> 404', async () => {
    for (const [method, path] of [
      ['POST', '/v1/event'],
      ['GET', '/v2/events'],
      ['DELETE', '/v1/events'],
    ]) {
      const res = await api(svc, method, path, method === 'POST' ? good : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect(await rowsNow()).toBe(0);
  });

  it('tickets: malformed 400, unknown 404', async () => {
    expect((await api(svc, 'GET', '/v1/tickets/abc')).body.error.code).toBe('invalid_ticket');
    const unknown = await api(svc, 'GET', '/v1/tickets/00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ticket_not_found');
  });

  it('a good push after all that is accepted, with the Kafka leg off', async () => {
    const res = await api(svc, 'POST', '/v1/events', good);
    expect(res.status).toBe(202);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(1);
    const status = await api(svc, 'GET', '/v1/status');
    expect(status.body.relay.enabled).toBe(false);
  });
});
