import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const TOKEN = 'crm-token-0123456789';
// Every id issue 19 steered a callout with, and their encoded and mixed cousins.
const STEERING = [
  '.',
  '..',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '/',
  '?',
  '#',
  '\\',
  '%2F',
  '%2f',
  '../admin',
  'a/../../b',
  '..;x',
  'x?y=1#z',
];
const DOT_SEGMENTS = ['.', '..'];
const SAFE = ['acc-1', ...STEERING.filter((id) => !DOT_SEGMENTS.includes(id))];
const TAG = '../../x?y=1#z&admin=1';

/**
 * Issue 19, finding 4: with `http://host/v2/{entity}s/{recordId}`, id `..` sent `PUT /v2/` and `.` sent
 * `PUT /v2/accounts/` with the route's bearer token. Through the real drain to a loopback sink that
 * records every path it receives.
 */
describe('outbound URLs cannot be steered by record ids or payload values', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    const rest = (name: string, url: string, method: string) => ({
      name,
      match: { entity: 'account' },
      connector: 'rest',
      options: { url, method, auth: { type: 'bearer', token: TOKEN } },
      retry: { maxAttempts: 1, baseMs: 10, maxMs: 20 },
    });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        rest('v2', `${sink.url}/v2/{entity}s/{recordId}`, 'PUT'),
        rest('sub', `${sink.url}/api/{entity}/{recordId}/sub?tag={payload.tag}`, 'POST'),
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('keeps every id one literal path segment, dead-letters dot segments, and sends nothing outside the template', async () => {
    const ids = ['acc-1', ...STEERING];
    const res = await api(svc, 'POST', '/v1/events', {
      entity: 'account',
      op: 'update',
      ids,
      payload: { tag: TAG },
    });
    expect(res.status).toBe(202);
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state IN ('done', 'dead')`)) ===
        ids.length * 2,
      'every row delivered or dead-lettered',
    );

    const received = sink.requests.map((r) => `${r.method} ${r.path}`).sort();
    const expected = SAFE.flatMap((id) => [
      `PUT /v2/accounts/${encodeURIComponent(id)}`,
      `POST /api/account/${encodeURIComponent(id)}/sub?tag=${encodeURIComponent(TAG)}`,
    ]).sort();
    expect(received).toEqual(expected);
    for (const r of sink.requests) expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);

    const dead = await db.pool.query<{ route: string; record_id: string; last_error: string }>(
      `SELECT route, record_id, last_error FROM event_queue WHERE state = 'dead' ORDER BY route, record_id`,
    );
    expect(dead.rows.map((r) => `${r.route} ${r.record_id}`)).toEqual(['sub .', 'sub ..', 'v2 .', 'v2 ..']);
    for (const r of dead.rows)
      expect(r.last_error).toMatch(/would be the dot segment "\.{1,2}" in the URL path/);
  });
});
