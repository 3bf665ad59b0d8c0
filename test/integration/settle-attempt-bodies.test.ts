import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrayParam } from '../../src/db/pool';
import { claim } from '../../src/db/queue/claim';
import { distinctBodies, settleRows } from '../../src/db/queue/settle-rows';
import { createTestDb, drainSessions, type TestDb } from '../helpers/db';

/** The attempt log's 2xx bodies go to Postgres once per distinct text; each row still gets its own. */
describe('settle: attempt bodies', () => {
  let db: TestDb;
  let drainPool: Pool;

  beforeAll(async () => {
    db = await createTestDb();
    drainPool = drainSessions(db.url);
    await db.pool.query(
      `UPDATE sluice_lane SET holder = 'me', term = 1, expires_at = now() + interval '1 hour'`,
    );
  });
  afterAll(async () => {
    await drainPool?.end();
    await db?.drop();
  });

  it('arrayParam: Postgres reads back the same texts, numbers, booleans and nulls that pg would have sent', async () => {
    const texts = ['', 'ok', 'a"b', 'back\\slash', '{x,y}', 'NULL', ' padded ', 'x'.repeat(600), 'é ü 字'];
    const t = await db.pool.query<{ a: string[] }>('SELECT $1::text[] AS a', [arrayParam([...texts, null])]);
    expect(t.rows[0].a).toEqual([...texts, null]);
    const n = await db.pool.query<{ i: string[]; f: number[]; b: boolean[] }>(
      'SELECT $1::bigint[] AS i, $2::float8[] AS f, $3::bool[] AS b',
      [
        arrayParam(['1', '9007199254740993', null]),
        arrayParam([1764497000123, 0.5, null]),
        arrayParam([true, false, null]),
      ],
    );
    expect(n.rows[0]).toEqual({
      i: ['1', '9007199254740993', null],
      f: [1764497000123, 0.5, null],
      b: [true, false, null],
    });
    expect(
      (await db.pool.query<{ a: number[] }>('SELECT $1::int[] AS a', [arrayParam([])])).rows[0].a,
    ).toEqual([]);
  });

  it('distinctBodies lists each text once, rows point at it by 1-based position, null stays null', () => {
    const shared = 'x'.repeat(512);
    expect(distinctBodies([shared, null, 'ok', shared, 'ok', null])).toEqual({
      at: [1, null, 2, 1, 2, null],
      texts: [shared, 'ok'],
    });
    expect(distinctBodies([])).toEqual({ at: [], texts: [] });
    expect(distinctBodies([null])).toEqual({ at: [null], texts: [] });
  });

  it('a settle writes every row its own body (shared, distinct, none), duration and error code, and a failure its response, whatever order the log lists the rows in', async () => {
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source)
       SELECT gen_random_uuid(), 'crm', 'account', 'r-' || g, 'update', 'api' FROM generate_series(1, 6) g`,
    );
    const got = await claim(drainPool, {
      limit: 10,
      routes: [{ route: 'crm', quota: 10, bulk: false }],
      holder: 'me',
      lanes: Array.from({ length: 32 }, (_, i) => i),
      terms: Array.from({ length: 32 }, () => 1),
      leaseMs: 60_000,
    });
    expect(got).toHaveLength(6);
    const ids = got.map((e) => e.id).sort((a, b) => Number(a) - Number(b));
    const shared = `[${'{"id":"001","success":true,"errors":[]},'.repeat(12)}`.slice(0, 512);
    const bodies = [shared, shared, 'fine', null, shared, null];
    const done = ids.slice(0, 5);
    const n = await settleRows(drainPool, 'me', {
      done: { ids: done, statuses: done.map(() => 200) },
      failures: [
        {
          id: ids[5],
          dead: false,
          runAt: new Date(Date.now() + 60_000),
          error: 'HTTP 503',
          status: 503,
          response: 'down',
        },
      ],
      // The log lists the rows in the reverse order of the settle's.
      attempts: {
        queueIds: [...ids].reverse(),
        startedMs: ids.map(() => Date.now()),
        durationMs: ids.map((_, i) => 10 + (ids.length - 1 - i)),
        errorCodes: ids.map((_, i) => (i === 0 ? 'ECONNRESET' : null)),
        bodies: [...bodies].reverse(),
      },
      health: { routes: ['crm'], ok: [true], failFrom: [null] },
    });
    expect(n).toBe(6);
    const { rows } = await db.pool.query<{ queue_id: string; outcome: string; response: string | null }>(
      `SELECT queue_id::text, outcome, response, duration_ms, error_code FROM sluice_attempt ORDER BY queue_id`,
    );
    expect(rows).toEqual([
      { queue_id: ids[0], outcome: 'succeeded', response: shared, duration_ms: 10, error_code: null },
      { queue_id: ids[1], outcome: 'succeeded', response: shared, duration_ms: 11, error_code: null },
      { queue_id: ids[2], outcome: 'succeeded', response: 'fine', duration_ms: 12, error_code: null },
      { queue_id: ids[3], outcome: 'succeeded', response: null, duration_ms: 13, error_code: null },
      { queue_id: ids[4], outcome: 'succeeded', response: shared, duration_ms: 14, error_code: null },
      { queue_id: ids[5], outcome: 'failed', response: 'down', duration_ms: 15, error_code: 'ECONNRESET' },
    ]);
  });
});
