import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/lib/signature';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startTestService, TEST_KEY } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const SECRET = 'burst-secret-0123456789';

/** One request of the burst: what to send, and the answer it must get. */
interface Shot {
  path: string;
  body: string;
  headers: Record<string, string>;
  status: number;
  code?: string;
  /** The record id a valid request enqueues. */
  id?: string;
}

const push = (body: unknown, status = 202, code?: string, id?: string): Shot => ({
  path: '/v1/events',
  body: JSON.stringify(body),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
  status,
  code,
  id,
});
const hook = (body: unknown, status = 202, code?: string, id?: string, signature?: string): Shot => {
  const raw = JSON.stringify(body);
  return {
    path: '/v1/webhooks/shop',
    body: raw,
    headers: { 'content-type': 'application/json', 'x-sluice-signature': signature ?? sign(SECRET, raw) },
    status,
    code,
    id,
  };
};

/** Ten ways to be wrong, among them values Postgres itself refuses (a lone surrogate reaches it). */
const invalid: Array<(i: number) => Shot> = [
  (i) => push({ entity: 'account', op: 'update', ids: [`bad-${i}\u0000`] }, 400, 'invalid_body'),
  (i) =>
    push(
      { entity: 'account', op: 'update', ids: [`bad-${i}`], payload: { 'k\u0000': 1 } },
      400,
      'invalid_body',
    ),
  (i) =>
    push(
      { entity: 'account', op: 'update', ids: [`bad-${i}`], payload: { s: 'lone \ud800' } },
      400,
      'invalid_input',
    ),
  (i) =>
    push(
      {
        entity: 'account',
        op: 'update',
        ids: Array.from({ length: 1000 }, (_, k) => `bad-${i}-${k}`),
        payload: { x: 'y'.repeat(70_000) },
      },
      413,
      'work_too_large',
    ),
  (i) => push({ entity: 'account', op: 'merge', ids: [`bad-${i}`] }, 400, 'invalid_body'),
  (i) =>
    hook(
      { entity: 'account', op: 'update', id: `bad-${i}` },
      401,
      'invalid_signature',
      undefined,
      't=1,v1=00',
    ),
  (i) =>
    hook(
      { entity: 'account', op: 'update', id: `bad-${i}`, payload: { s: 'a\u0000b' } },
      400,
      'invalid_body',
    ),
  (i) =>
    hook(
      { entity: 'account', op: 'update', id: `bad-${i}`, payload: { s: 'lone \udc00' } },
      400,
      'invalid_input',
    ),
  (i) =>
    hook(
      { entity: 'account', op: 'update', id: `bad-${i}`, payload: { x: 'y'.repeat(1_100_000) } },
      413,
      'body_too_large',
    ),
  (i) =>
    hook({ entity: 'account', op: 'update', id: `bad-${i}`, deliveryId: `d\u0000${i}` }, 400, 'invalid_body'),
];

describe('a burst of 1,000 concurrent pushes and webhooks, 10% invalid in ten ways', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
          concurrency: 16,
          coalesce: false,
        },
      ],
      webhooks: { shop: { secret: SECRET } },
      env: { SLUICE_INGEST_RATE_LIMIT: '0' },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('accepts and delivers every valid request, answers each invalid one with its own 4xx and code, and writes nothing for them', async () => {
    const shots: Shot[] = Array.from({ length: 1000 }, (_, i) => {
      if (i % 10 === 9) return invalid[Math.floor(i / 10) % 10](i);
      return i % 2 === 0
        ? push({ entity: 'account', op: 'update', ids: [`p-${i}`], payload: { i } }, 202, undefined, `p-${i}`)
        : hook(
            { entity: 'account', op: 'update', id: `w-${i}`, deliveryId: `d-${i}` },
            202,
            undefined,
            `w-${i}`,
          );
    });
    // 1,000 sockets at once: on a busy machine some connects wait out a full accept backlog.
    const dispatcher = new Agent({ connections: 1000, connect: { timeout: 60_000 } });
    const answers = await Promise.all(
      shots.map(async (s) => {
        const res = await fetch(`${svc.url}${s.path}`, {
          method: 'POST',
          headers: s.headers,
          body: s.body,
          dispatcher,
        });
        const body = (await res.json()) as { ticket?: string; error?: { code: string; message: string } };
        return {
          status: res.status,
          code: body.error?.code,
          ticket: body.ticket,
          message: body.error?.message,
        };
      }),
    );
    await dispatcher.close();
    const wrong = shots.flatMap((s, i) =>
      answers[i].status !== s.status || answers[i].code !== s.code
        ? [{ i, want: [s.status, s.code], got: [answers[i].status, answers[i].code, answers[i].message] }]
        : [],
    );
    expect(wrong).toEqual([]);
    for (const [i, a] of answers.entries()) if (shots[i].id) expect(a.ticket).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(answers.filter((a) => a.ticket).map((a) => a.ticket)).size).toBe(900);

    const valid = shots.flatMap((s) => (s.id ? [s.id] : []));
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(900);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id LIKE 'bad-%'`)).toBe(0);
    const delivered = () =>
      new Set(sink.requests.map((r) => (JSON.parse(r.body) as { recordId: string }).recordId));
    await waitFor(() => delivered().size >= 900, '900 deliveries', { timeoutMs: 60_000 });
    expect([...delivered()].sort()).toEqual([...valid].sort());
  }, 180_000);
});
