import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { pushIds } from '../../src/capture/push';
import { acceptWebhook } from '../../src/capture/webhook';
import { MAX_REQUEST_WORK_BYTES } from '../../src/capture/work-limit';
import type { Queryable } from '../../src/db/pool';
import { sign } from '../../src/lib/signature';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { TEST_KEY } from '../helpers/service';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';

const SECRET = 'shop-secret-0123456789abcdef';
const auth = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
const ids = (n: number, prefix = 'r') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** A JSON object of about `bytes` bytes once serialised. */
const payloadOf = (bytes: number) => ({ blob: 'x'.repeat(bytes - 12) });

async function healthzMs(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${url}/healthz`);
  expect(res.status).toBe(200);
  return performance.now() - t;
}

/**
 * Issue 19, finding 1: one push of 1,000 ids with a 7 MB shared payload killed the process (the payload
 * was copied and serialised once per id). The service runs in a child process with a 256 MB heap, so a
 * regression kills the child, not the test.
 */
describe('bounded work per request (a child process with a 256 MB heap)', () => {
  let db: TestDb;
  let svc: SluiceProcess;

  beforeAll(async () => {
    db = await createTestDb();
    svc = await spawnSluice({
      databaseUrl: db.url,
      kafkaBrokers: null,
      webhooks: { shop: { secret: SECRET } },
      routes: [
        {
          name: 'crm',
          match: { entity: '*' },
          connector: 'webhook',
          options: { url: 'http://127.0.0.1:9/x' },
        },
      ],
      env: { NODE_OPTIONS: '--max-old-space-size=256', SLUICE_INGEST_RATE_LIMIT: '0' },
    });
  }, 90_000);
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  it('answers a 7 MB x 1,000-ids push with 413 work_too_large at once, writes nothing and stays alive', async () => {
    const started = performance.now();
    const res = await fetch(`${svc.url}/v1/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        entity: 'account',
        op: 'update',
        ids: ids(1000),
        payload: payloadOf(7_000_000),
      }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(413);
    expect(body.error.code).toBe('work_too_large');
    expect(body.error.message).toMatch(/1000 ids x 7\.0 MB/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(0);
    expect(await healthzMs(svc.url)).toBeLessThan(1_000);
  });

  it('answers a signed 1 MB webhook of 10,000 ids with 413 work_too_large and writes nothing', async () => {
    const raw = JSON.stringify({
      entity: 'account',
      op: 'update',
      ids: ids(10_000),
      payload: payloadOf(900_000),
    });
    const res = await fetch(`${svc.url}/v1/webhooks/shop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sluice-signature': sign(SECRET, raw) },
      body: raw,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('work_too_large');
    expect(await count(db.pool, 'SELECT count(*) AS n FROM event_log')).toBe(0);
  });

  it('accepts the largest allowed push (ids x payload at the limit) within the 256 MB heap', async () => {
    const n = 10;
    const payload = payloadOf(Math.floor(MAX_REQUEST_WORK_BYTES / n) - 64);
    const res = await fetch(`${svc.url}/v1/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ entity: 'account', op: 'update', ids: ids(n, 'big'), payload }),
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { accepted: number }).accepted).toBe(n);
    // Every id's row and queue row carries the whole payload.
    const same = `WHERE record_id LIKE 'big%' AND payload = $1::jsonb`;
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_log ${same}`, [JSON.stringify(payload)]),
    ).toBe(n);
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue ${same}`, [JSON.stringify(payload)]),
    ).toBe(n);
    expect(await healthzMs(svc.url)).toBeLessThan(1_000);
    expect(svc.child.exitCode).toBeNull();
  });

  it('refuses a sync process whose ids x payload pass the limit when it is registered', async () => {
    const res = await fetch(`${svc.url}/v1/processes`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: 'huge-sync',
        handler: 'sync',
        kind: 'single',
        params: { entity: 'account', ids: ids(1000), payload: payloadOf(900_000) },
      }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(413);
    expect(body.error.code).toBe('work_too_large');
    expect(await count(db.pool, 'SELECT count(*) AS n FROM sluice_process')).toBe(0);
  });
});

describe('a shared payload crosses to Postgres once', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Bytes of every string parameter sent, arrays included. */
  const bytesOf = (params: unknown[]): number =>
    params.flat().reduce<number>((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) : 0), 0);

  it('push and webhook send one copy of a 50 KB payload for 1,000 ids, and every row carries it', async () => {
    const sent: unknown[][] = [];
    const spy: Queryable = {
      // Text and values, or a query config (the group statement is a named, prepared one).
      query: ((q: string | { text: string; values?: unknown[] }, params?: unknown[]) => {
        sent.push((typeof q === 'string' ? params : q.values) ?? []);
        return typeof q === 'string' ? db.pool.query(q, params) : db.pool.query(q);
      }) as Queryable['query'],
    };
    const payload = payloadOf(50_000);
    const size = JSON.stringify(payload).length;
    await pushIds(spy, { entity: 'account', op: 'update', ids: ids(1000, 'p'), payload });
    await acceptWebhook(spy as Pool, 'shop', {
      entity: 'account',
      op: 'update',
      ids: ids(1000, 'w'),
      payload,
      deliveryId: 'd-1',
    });
    expect(sent).toHaveLength(2);
    for (const params of sent) {
      expect(bytesOf(params)).toBeGreaterThan(size);
      expect(bytesOf(params)).toBeLessThan(size + 20_000); // the payload once, plus the ids
    }
    expect(
      await count(db.pool, 'SELECT count(*) AS n FROM event_log WHERE payload = $1::jsonb', [
        JSON.stringify(payload),
      ]),
    ).toBe(2000);
  });
});
