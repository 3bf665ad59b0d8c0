import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pruner } from '../../src/drain/pruner';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const silent = { info() {}, warn() {} };

function sluice(url: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [resolve('bin/sluice.js'), ...args], {
    env: { ...process.env, DATABASE_URL: url, SLUICE_LOCAL_KAFKA: 'off', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((res) => child.once('exit', (code) => res({ code, out })));
}

const hook = (name: string, url: string, extra: object = {}) => ({
  name,
  match: { entity: name },
  connector: 'webhook',
  options: { url },
  ...extra,
});

interface AttemptJson {
  id: string;
  eventId: string;
  route: string;
  recordId: string;
  attempt: number;
  outcome: string;
  deferred: boolean;
  httpStatus: number | null;
  errorCode: string | null;
  response: string | null;
  durationMs: number;
  startedAt: string;
}

describe('the attempt log: every attempt on record', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const seen = new Map<string, number>();

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink((req) => {
      if (req.path.startsWith('/flaky')) {
        const id = (JSON.parse(req.body) as { recordId: string }).recordId;
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        return n <= 2 ? { status: 500, body: `nope ${n}` } : { status: 200, body: 'fine' };
      }
      if (req.path.startsWith('/broken')) return { status: 503, body: 'down' };
      if (req.path.startsWith('/refusing')) return { status: 422, body: 'no such account' };
      return { status: 200, body: 'ok' };
    });
    const fastRetry = { maxAttempts: 5, baseMs: 10, maxMs: 20 };
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        hook('flaky', `${sink.url}/flaky`, { retry: fastRetry, breaker: { volumeThreshold: 1000 } }),
        hook('broken', `${sink.url}/broken`, {
          retry: { maxAttempts: 50, baseMs: 10, maxMs: 20 },
          breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 },
          concurrency: 1,
          disableAfter: 'off',
        }),
        hook('many', `${sink.url}/many`),
        hook('refusing', `${sink.url}/refusing`),
      ],
    });
  });

  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  const push = async (entity: string, ids: string[]) => {
    const r = await api(svc, 'POST', '/v1/events', { entity, op: 'update', ids });
    expect(r.status).toBe(202);
  };
  const deliveries = async (query: string) => {
    const r = await api(svc, 'GET', `/v1/deliveries?${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { items: AttemptJson[]; next: string | null };
  };

  it('a route that fails twice then succeeds records 3 attempts: failed #1 and #2 with status 500 and the body, succeeded #3', async () => {
    await push('flaky', ['f1']);
    await waitFor(
      async () => (await deliveries('route=flaky&status=succeeded')).items.length === 1,
      'success',
    );
    const { items } = await deliveries('route=flaky&recordId=f1');
    expect(items.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [3, 'succeeded', 200],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    expect(items.map((a) => a.response)).toEqual(['fine', 'nope 2', 'nope 1']);
    expect(items.every((a) => !a.deferred && a.durationMs >= 0 && a.eventId === items[0].eventId)).toBe(true);
    // The event's history: the same three, oldest first.
    const history = await api(svc, 'GET', `/v1/events/${items[0].eventId}/attempts`);
    expect(history.status).toBe(200);
    expect(history.body.items.map((a: AttemptJson) => a.attempt)).toEqual([1, 2, 3]);
    expect(history.body.items.map((a: AttemptJson) => a.id)).toEqual(items.map((a) => a.id).reverse());
  });

  it('an attempt the endpoint refused for good (422) is recorded as dead, attempt 1, with its status, error and response', async () => {
    await push('refusing', ['r1']);
    const dead = await waitFor(async () => {
      const page = await deliveries('route=refusing&status=dead');
      return page.items.length === 1 ? page.items[0] : null;
    }, 'a dead attempt');
    expect(dead).toMatchObject({
      attempt: 1,
      outcome: 'dead',
      httpStatus: 422,
      deferred: false,
      errorCode: null,
    });
    expect(dead.response).toBe('no such account');
    // status=failed includes the dead ones.
    expect((await deliveries('route=refusing&status=failed')).items.map((a) => a.id)).toEqual([dead.id]);
  });

  it('attempts the open breaker deferred are recorded as deferred (breaker_open, no HTTP status), the sent ones as failed 503', async () => {
    await push(
      'broken',
      Array.from({ length: 10 }, (_, i) => `b${i}`),
    );
    const deferred = await waitFor(async () => {
      const page = await deliveries('route=broken&status=deferred');
      return page.items.length > 0 ? page.items : null;
    }, 'a deferred attempt');
    expect(deferred[0]).toMatchObject({
      outcome: 'deferred',
      deferred: true,
      errorCode: 'breaker_open',
      httpStatus: null,
    });
    const failed = await deliveries('route=broken&status=failed');
    expect(failed.items.length).toBeGreaterThanOrEqual(2);
    expect(failed.items[0]).toMatchObject({ deferred: false, httpStatus: 503, response: 'down' });
    // Sent attempts match what the sink saw.
    const sent = sink.requests.filter((r) => r.path.startsWith('/broken')).length;
    expect(failed.items.length).toBe(sent);
  });

  it('cursor pages return every attempt once, newest first, and the last page has next null', async () => {
    await push(
      'many',
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    await waitFor(async () => (await deliveries('route=many&limit=100')).items.length === 25, '25 attempts');
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: AttemptJson[]; next: string | null } = await deliveries(
        `route=many&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      ids.push(...page.items.map((a) => a.id));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(new Set(ids).size).toBe(25);
    expect(ids).toEqual([...ids].sort((a, b) => Number(b) - Number(a)));
    const records = new Set((await deliveries('route=many&limit=100')).items.map((a) => a.recordId));
    expect(records.size).toBe(25);
    // since: an instant after everything -> nothing.
    expect(
      (await deliveries(`route=many&since=${new Date(Date.now() + 60_000).toISOString()}`)).items,
    ).toEqual([]);
  });

  it.each([
    ['status=bogus', 'invalid_query'],
    ['limit=0', 'invalid_query'],
    ['limit=1001', 'invalid_query'],
    ['eventId=not-a-uuid', 'invalid_query'],
    ['since=yesterday', 'invalid_query'],
    ['route=bad%20name', 'invalid_query'],
    ['color=blue', 'invalid_query'],
    ['cursor=garbage', 'invalid_cursor'],
  ])('GET /v1/deliveries?%s -> 400 %s with a message', async (query, code) => {
    const r = await api(svc, 'GET', `/v1/deliveries?${query}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toEqual(expect.any(String));
  });

  it('the OpenAPI document lists both endpoints with the filters as query parameters', async () => {
    const doc = await api(svc, 'GET', '/docs/json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/deliveries', '/v1/events/{eventId}/attempts']),
    );
    const params = (doc.body.paths['/v1/deliveries'].get.parameters as Array<{ name: string }>).map(
      (p) => p.name,
    );
    expect(params).toEqual(
      expect.arrayContaining([
        'route',
        'entity',
        'recordId',
        'eventId',
        'status',
        'since',
        'limit',
        'cursor',
      ]),
    );
  });

  it('GET /v1/events/:eventId/attempts with a non-UUID -> 400 invalid_event_id; an unknown event -> 200 with no items', async () => {
    const bad = await api(svc, 'GET', '/v1/events/nope/attempts');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_event_id');
    const none = await api(svc, 'GET', '/v1/events/00000000-0000-4000-8000-000000000000/attempts');
    expect(none).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('sluice deliveries lists attempts (text and --json), and refuses a bad flag with exit 2 and the reason', async () => {
    const json = await sluice(db.url, ['deliveries', '--route', 'flaky', '--record', 'f1', '--json']);
    expect(json.code, json.out).toBe(0);
    const body = JSON.parse(json.out) as { items: AttemptJson[]; next: string | null };
    expect(body.items.map((a) => a.outcome)).toEqual(['succeeded', 'failed', 'failed']);
    expect(body.next).toBeNull();

    const text = await sluice(db.url, ['deliveries', '--route', 'many', '--limit', '2']);
    expect(text.code, text.out).toBe(0);
    const lines = text.out.trim().split('\n');
    expect(lines, text.out).toHaveLength(3);
    expect(lines[0]).toMatch(/\tmany\tmany:m\d+\t#1\tsucceeded\t200\t\d+ ms\t[0-9a-f-]{36}$/);
    expect(lines[2]).toMatch(/^more: --cursor \S+$/);
    const cursor = lines[2].split(' ').at(-1)!;
    const page2 = await sluice(db.url, [
      'deliveries',
      '--route',
      'many',
      '--limit',
      '2',
      '--cursor',
      cursor,
      '--json',
    ]);
    expect(page2.code, page2.out).toBe(0);
    expect(JSON.parse(page2.out).items).toHaveLength(2);

    const bad = await sluice(db.url, ['deliveries', '--status', 'sideways']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('must be one of succeeded, failed, dead, deferred');
    const badEvent = await sluice(db.url, ['deliveries', '--event', '42']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.out).toContain('must be an event id');
    const badCursor = await sluice(db.url, ['deliveries', '--cursor', 'zzz']);
    expect(badCursor.code).toBe(2);
    expect(badCursor.out).toContain('--cursor is not one sluice gave out');
  });
  it('the pruner deletes attempts older than the retention (oldest first, in batches of `chunk`) and keeps the recent ones', async () => {
    const total = await count(db.pool, 'SELECT count(*) AS n FROM sluice_attempt');
    await db.pool.query(
      `UPDATE sluice_attempt SET started_at = now() - interval '8 days'
        WHERE id IN (SELECT id FROM sluice_attempt ORDER BY id LIMIT 10)`,
    );
    const pruner = new Pruner(
      db.pool,
      () => true,
      { retentionMs: 0, attemptRetentionMs: 7 * 86_400_000, intervalMs: 60_000, chunk: 3, pauseMs: 1 },
      silent,
    );
    expect(await pruner.runOnce()).toEqual({ done: 0, published: 0, attempts: 10 });
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM sluice_attempt WHERE started_at < now() - interval '7 days'`,
      ),
    ).toBe(0);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM sluice_attempt')).toBeGreaterThanOrEqual(
      total - 10,
    );
  });
});
