import Fastify from 'fastify';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from '../../src/api/routes/health';
import { EnvSchema, parseWebhookSecrets } from '../../src/config/env';
import { sign } from '../../src/lib/signature';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService, TEST_KEY } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

type Svc = Awaited<ReturnType<typeof startTestService>>;
const noKey = {};
const get = (svc: Svc, path: string, headers: Record<string, string> = noKey) =>
  api(svc, 'GET', path, undefined, headers);

describe('security: keys, public endpoints, rate limit, secrets', () => {
  let db: TestDb;
  let sink: Sink;
  const logs: string[] = [];
  let svc: Svc;
  const SECRETS = {
    signing: 'route-signing-secret-0123456789',
    token: 'Bearer crm-token-abcdef-0123456789',
    urlPassword: 'url-password-0123456789',
    webhook: 'webhook-secret-0123456789abcdef',
  };

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink(() => ({ status: 503 }));
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      env: {
        LOG_LEVEL: 'trace',
        SLUICE_INGEST_RATE_LIMIT: '5',
        SLUICE_API_KEYS: `${TEST_KEY},second-key-0123456789`,
      },
      logDestination: { write: (line) => void logs.push(line) },
      webhooks: { shop: { secret: SECRETS.webhook } },
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: {
            url: `${sink.url}/crm`,
            secret: SECRETS.signing,
            headers: { authorization: SECRETS.token },
          },
          retry: { maxAttempts: 2, baseMs: 10, maxMs: 20 },
        },
        {
          // Nothing listens on port 9: transport errors, with credentials in the URL.
          name: 'legacy',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `http://admin:${SECRETS.urlPassword}@127.0.0.1:9/hook` },
          retry: { maxAttempts: 1, baseMs: 10, maxMs: 20 },
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('needs the key everywhere except the public probes, the API docs and the data-free dashboard shell', async () => {
    for (const path of ['/healthz', '/readyz', '/docs', '/docs/json'])
      expect((await get(svc, path)).status, path).toBe(200);
    for (const path of [
      '/metrics',
      '/v1/status',
      '/v1/dead-letters',
      '/v1/tickets/00000000-0000-4000-8000-000000000000',
    ])
      expect((await get(svc, path)).status, path).toBe(401);
    expect((await api(svc, 'POST', '/v1/dead-letters/replay', { all: true }, noKey)).status).toBe(401);
    const page = await get(svc, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Sluice</title>');
    expect(page.body).not.toContain(svc.instance);
    // Either key works; a key is compared whole.
    expect((await get(svc, '/metrics', { authorization: 'Bearer second-key-0123456789' })).status).toBe(200);
    expect((await get(svc, '/metrics', { authorization: 'Bearer second-key-012345678' })).status).toBe(401);
  });

  it('limits pushes per key with 429 in the error envelope; other keys and reads are unaffected; nothing is written', async () => {
    const before = await count(db.pool, 'SELECT count(*) AS n FROM event_log');
    const push = (key: string, id: string) =>
      api(
        svc,
        'POST',
        '/v1/events',
        { entity: 'invoice', op: 'insert', ids: [id] },
        { authorization: `Bearer ${key}` },
      );
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => push(TEST_KEY, `r${i}`)));
    const limited = results.filter((r) => r.status === 429);
    const accepted = results.filter((r) => r.status === 202);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(accepted.length).toBeLessThanOrEqual(5 * 2); // at most two 1 s windows were touched
    expect(limited[0].body.error.code).toBe('rate_limited');
    expect(limited[0].body.error.message).toMatch(/rate limit/);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(before + accepted.length);
    expect((await push('second-key-0123456789', 'other')).status).toBe(202);
    for (let i = 0; i < 10; i++)
      expect((await get(svc, '/v1/status', { authorization: `Bearer ${TEST_KEY}` })).status).toBe(200);
    await waitFor(async () => (await push(TEST_KEY, 'later')).status === 202, 'the window to pass', {
      intervalMs: 250,
    });
  });

  it('never shows route secrets, webhook secrets or API keys in status, metrics, docs, dead letters or logs', async () => {
    expect(
      (await api(svc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids: ['s1', 's2'] })).status,
    ).toBe(202);
    await waitFor(
      async () => (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)) >= 4,
      'both routes dead-lettered',
    );
    const auth = { authorization: `Bearer ${TEST_KEY}` };
    const surfaces = [
      JSON.stringify((await get(svc, '/v1/status', auth)).body),
      JSON.stringify((await get(svc, '/v1/dead-letters', auth)).body),
      JSON.stringify((await get(svc, '/docs/json', auth)).body),
      String((await get(svc, '/metrics', auth)).body),
      logs.join('\n'),
    ];
    expect(logs.length).toBeGreaterThan(5);
    expect(logs.join('\n')).toContain('dead-lettered');
    for (const text of surfaces) {
      for (const secret of [...Object.values(SECRETS), TEST_KEY, 'second-key-0123456789'])
        expect(text).not.toContain(secret);
      expect(text).not.toContain('crm-token');
    }
  });

  it('answers a NUL in an id with a 400 and writes nothing', async () => {
    const before = await count(db.pool, 'SELECT count(*) AS n FROM event_log');
    const res = await api(
      svc,
      'POST',
      '/v1/events',
      { entity: 'invoice', op: 'insert', ids: ['a\u0000b'] },
      { authorization: 'Bearer second-key-0123456789' },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_body');
    const payload = await api(
      svc,
      'POST',
      '/v1/events',
      { entity: 'invoice', op: 'insert', ids: ['x'], payload: { 'k\u0000': 1 } },
      { authorization: 'Bearer second-key-0123456789' },
    );
    expect(payload.status).toBe(400);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(before);
  });

  it('answers JSON nested 4,000 levels deep with 400 json_too_deep on every JSON route, logging no error', async () => {
    const deep = (n: number): unknown => (n === 0 ? 'leaf' : { a: deep(n - 1) });
    const payload = deep(4000);
    const linesBefore = logs.length;
    const push = await api(svc, 'POST', '/v1/events', {
      entity: 'account',
      op: 'update',
      ids: ['d'],
      payload,
    });
    expect(push.status).toBe(400);
    expect(push.body.error.code).toBe('json_too_deep');
    const proc = await api(svc, 'POST', '/v1/processes', {
      name: 'deep',
      handler: 'sync',
      kind: 'single',
      params: { entity: 'account', ids: ['d'], payload },
    });
    expect(proc.status).toBe(400);
    expect(proc.body.error.code).toBe('json_too_deep');
    const raw = JSON.stringify({ entity: 'account', op: 'update', id: 'd', payload });
    const hook = await api(svc, 'POST', '/v1/webhooks/shop', raw, {
      'content-type': 'application/json',
      'x-sluice-signature': sign(SECRETS.webhook, raw),
    });
    expect(hook.status).toBe(400);
    expect(hook.body.error.code).toBe('json_too_deep');
    // 64 levels still pass.
    const ok = await api(svc, 'POST', '/v1/events', {
      entity: 'invoice',
      op: 'update',
      ids: ['d'],
      payload: deep(62),
    });
    expect(ok.status).toBe(202);
    const logged = logs
      .slice(linesBefore)
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged.filter((l) => JSON.stringify(l).includes('stack'))).toEqual([]);
  });

  it("answers a value Postgres refuses with 400 invalid_input naming the field and class, without Postgres' text", async () => {
    const res = await api(svc, 'POST', '/v1/events', {
      entity: 'invoice',
      op: 'update',
      ids: ['s'],
      payload: { note: 'lone \uD800 surrogate' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.message).toBe(
      'a value was refused by the database: the payload: a value is not valid for its type (SQLSTATE 22P02)',
    );
    expect(JSON.stringify(res.body)).not.toMatch(/surrogate|invalid input syntax|Unicode|JSON data/i);
  });
});

describe('public answers and configuration errors carry no internal or secret text', () => {
  it('/readyz says only not_ready when the database does not answer', async () => {
    const app = Fastify();
    const pool = new Pool({
      connectionString: 'postgres://sluice:pw-0123456789@127.0.0.1:1/x',
      connectionTimeoutMillis: 500,
    });
    healthRoutes(app, { pool });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        error: { code: 'not_ready', message: 'not ready: the database does not answer' },
      });
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('a bad SLUICE_WEBHOOK_SECRETS names the pair by position and shows none of its text', () => {
    const secret = 'whsec-abcdefghijklmnopqrstuvwxyz';
    for (const pairs of [
      [secret],
      [`shop:${secret}`, `bad source!:${secret}`],
      [`shop:short`],
      [`${secret}:x`],
    ]) {
      let message = '';
      try {
        parseWebhookSecrets(pairs);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, pairs.join()).toMatch(/^SLUICE_WEBHOOK_SECRETS: pair \d of \d /);
      for (let i = 0; i + 6 <= secret.length; i++) expect(message).not.toContain(secret.slice(i, i + 6));
    }
  });
});

describe('SLUICE_PUBLIC_ENDPOINTS', () => {
  it('opens exactly the listed operational endpoints; unlisted, the API viewer and its document need the key', async () => {
    const db = await createTestDb();
    const svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      env: { SLUICE_PUBLIC_ENDPOINTS: 'metrics' },
    });
    try {
      expect((await get(svc, '/metrics')).status).toBe(200);
      for (const path of ['/docs', '/docs/json', '/docs/static/swagger-initializer.js']) {
        expect((await get(svc, path)).status, path).toBe(401);
        expect((await get(svc, path, { authorization: `Bearer ${TEST_KEY}` })).status, path).toBe(200);
      }
      expect((await get(svc, '/healthz')).status).toBe(401);
      expect((await get(svc, '/readyz')).status).toBe(401);
      expect((await get(svc, '/v1/status')).status).toBe(401);
    } finally {
      await svc.stop();
      await db.drop();
    }
  });

  it('accepts none, refuses unknown names', () => {
    expect(EnvSchema.parse({ SLUICE_PUBLIC_ENDPOINTS: 'none' }).SLUICE_PUBLIC_ENDPOINTS).toEqual([]);
    expect(EnvSchema.parse({}).SLUICE_PUBLIC_ENDPOINTS).toEqual(['healthz', 'readyz', 'docs']);
    expect(EnvSchema.safeParse({ SLUICE_PUBLIC_ENDPOINTS: 'healthz,v1' }).success).toBe(false);
  });
});
