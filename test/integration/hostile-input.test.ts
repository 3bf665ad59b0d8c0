import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startTestService, TEST_KEY } from '../helpers/service';
import { jsonValue, text } from '../helpers/hostile';
import { startSink, type Sink } from '../helpers/sink';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 10_000);

// Bodies: JSON that is almost right, JSON that is wrong, and bytes that are not JSON at all.
const goodPush = { entity: 'account', op: 'update', ids: ['1'] };
const mutatedPush = fc
  .record({
    key: fc.constantFrom('entity', 'op', 'ids', 'source', 'payload', 'extra', '__proto__'),
    value: jsonValue,
  })
  .map(({ key, value }) => ({ ...goodPush, [key]: value }));
// Well-formed pushes carrying hostile ids and payloads (NUL bytes, lone surrogates, huge strings).
const hostilePush = fc.record({
  entity: fc.oneof(fc.constant('account'), text),
  op: fc.constantFrom('insert', 'update', 'delete', 'upsert'),
  ids: fc.array(text, { minLength: 1, maxLength: 3 }),
  payload: fc.oneof(jsonValue, fc.dictionary(text, text, { maxKeys: 3 })),
});
const mutatedReplay = fc.record(
  { ids: fc.array(text, { maxLength: 3 }), route: text, since: text, all: jsonValue },
  { requiredKeys: [] },
);
const mutatedProcess = fc.record(
  {
    name: text,
    handler: text,
    kind: text,
    schedule: text,
    params: jsonValue,
    dependsOn: jsonValue,
    priority: jsonValue,
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(mutatedPush, hostilePush, mutatedReplay, mutatedProcess)
      .map((v) => JSON.stringify(v)),
  },
  { weight: 3, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2000 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
  { weight: 1, arbitrary: fc.constant('{"entity":"account","op":"update","ids":["1"]') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'garbage',
  '',
  undefined,
);
const auth = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${TEST_KEY}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `bearer ${TEST_KEY}`,
      `Basic ${TEST_KEY}`,
      `Bearer ${TEST_KEY}x`,
      'Bearer \u0000',
      `Bearer ${'k'.repeat(5000)}`,
    ),
  },
);
const extraHeaders = fc.record(
  {
    'x-request-id': text.map((s) => s.replace(/[^\x20-\x7e]/g, '?')),
    'content-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
    'x-sluice-signature': text.map((s) => s.replace(/[^\x20-\x7e]/g, '?')),
  },
  { requiredKeys: [] },
);

interface Route {
  method: string;
  url: string;
}

/** Percent-encodes the UTF-8 bytes (lone surrogates included, which encodeURIComponent refuses). */
const enc = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');

function fillPath(url: string, values: string[]): string {
  let i = 0;
  return url.replace(/:([A-Za-z0-9_]+)/g, () => {
    const v = values[i++ % values.length] ?? '';
    // Mostly well-encoded; sometimes raw, so broken percent-encoding reaches the router too.
    return i % 3 === 0 ? v.replace(/[/?#\s]/g, '') : enc(v);
  });
}

describe('hostile input: generated malformed requests across every endpoint', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let routes: Route[];
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      // The rate limit has its own test; here every request should reach validation.
      env: { SLUICE_INGEST_RATE_LIMIT: '0', LOG_LEVEL: 'fatal' },
      routes: [
        { name: 'crm', match: { entity: '*' }, connector: 'webhook', options: { url: `${sink.url}/x` } },
      ],
      webhooks: { shop: { secret: 'shop-secret-0123456789' } },
    });
    routes = svc.app.routeCatalog.map((r) => ({ method: r.method, url: r.url }));
  });
  afterAll(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('every registered route declares the schemas it validates with', () => {
    expect(routes.length).toBeGreaterThanOrEqual(8);
    expect(svc.app.routeCatalog.filter((r) => !r.documented)).toEqual([]);
  });

  it(`${RUNS.toLocaleString('en-US')} requests: no 5xx, always the error envelope, no rows from rejected requests`, async () => {
    const before = await count(db.pool, 'SELECT count(*) AS n FROM event_log');
    const statuses = new Map<number, number>();
    const tickets = new Set<string>();
    let accepted = 0;
    let sent = 0;

    const request = fc.record({
      route: fc.constantFrom(...routes),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
      ),
      params: fc.array(text, { minLength: 1, maxLength: 3 }),
      query: fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom('route', 'since', 'limit', 'process', 'active', 'ids'), text),
          text,
        ),
        { maxLength: 4 },
      ),
      body,
      contentType,
      auth,
      headers: extraHeaders,
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const qs = r.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
        const method = r.method ?? r.route.method;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = v;
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        const res = await svc.app.inject({
          method: method as 'GET',
          url: fillPath(r.route.url, r.params) + (qs ? `?${qs}` : ''),
          headers,
          ...(r.body !== undefined && method !== 'GET' && method !== 'HEAD' && { payload: r.body }),
        });
        sent++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500)
          throw new Error(`${method} ${r.route.url} -> ${res.statusCode}: ${res.body.slice(0, 300)}`);
        if (res.statusCode >= 400 && method !== 'HEAD') {
          const e = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
          if (typeof e.error?.code !== 'string' || typeof e.error?.message !== 'string')
            throw new Error(`${res.statusCode} without the error envelope: ${res.body.slice(0, 200)}`);
        }
        if (res.statusCode === 202) {
          const b = JSON.parse(res.body) as { ticket?: string; accepted?: number };
          accepted += b.accepted ?? 0;
          if (b.ticket) tickets.add(b.ticket);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.HOSTILE_SEED ?? 20261122) },
    );

    // The service still answers, nothing crashed, and only accepted requests left rows.
    expect((await svc.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(crashes).toEqual([]);
    const logged = (await count(db.pool, 'SELECT count(*) AS n FROM event_log')) - before;
    expect(logged).toBe(accepted);
    const strays = await db.pool.query<{ ticket: string | null }>('SELECT DISTINCT ticket FROM event_log');
    for (const { ticket } of strays.rows) expect(ticket === null || tickets.has(ticket)).toBe(true);
    expect(
      await count(
        db.pool,
        'SELECT count(*) AS n FROM event_queue q WHERE NOT EXISTS (SELECT 1 FROM event_log l WHERE l.event_id = q.event_id)',
      ),
    ).toBe(0);

    const summary = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.log(
      `hostile input: ${sent} requests over ${routes.length} routes; statuses ${JSON.stringify(summary)}; accepted changes ${accepted}`,
    );
    expect(sent).toBe(RUNS);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
  });
});
