import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/db/pool';
import { settleRows, type SettleRows } from '../../src/db/queue/settle-rows';
import { createTestDb, drainSessions, type TestDb } from '../helpers/db';

/**
 * The settle statement is prepared once per connection (settle-rows.ts), so a session runs it on custom plans
 * first and may then keep a generic one. Either must match a flush's rows in one pass: on statistics that saw
 * no row running, a custom plan that found them by primary key (`state NOT IN (...)`) took the 2,000 running rows
 * from a sequential scan and compared each with every id of the flush (4,000,000 comparisons, ~560 ms), and
 * drain-composite fell from ~25,000 to ~18,000 events/s.
 */
describe('the settle statement on stale statistics', () => {
  let db: TestDb;
  let drainPool: Pool;
  let ids: string[];

  beforeAll(async () => {
    db = await createTestDb();
    drainPool = drainSessions(db.url);
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, state)
       SELECT gen_random_uuid(), 'crm', 'account', 'r-' || g, 'update', 'api', 'pending'
         FROM generate_series(1, 100000) g`,
    );
    await db.pool.query('ANALYZE event_queue'); // no row running yet
    await db.pool.query(
      `UPDATE event_queue SET state = 'running', locked_until = now() + interval '1 minute',
              locked_by = CASE WHEN id <= 2000 THEN 'me' ELSE 'other' END
        WHERE id <= 4000`,
    );
    ids = (
      await db.pool.query<{ id: string }>(`SELECT id FROM event_queue WHERE locked_by = 'me' ORDER BY id`)
    ).rows.map((r) => r.id);
  }, 120_000);
  afterAll(async () => {
    await drainPool?.end();
    await db?.drop();
  });

  /** The statement settleRows sends for `s`, run under EXPLAIN ANALYZE as a prepared statement in `mode`. */
  async function planOf(s: SettleRows, mode: 'force_custom_plan' | 'force_generic_plan'): Promise<string> {
    let stmt: { text: string; values: unknown[] } | null = null;
    const spy: Queryable = {
      query: (async (q: { text: string; values: unknown[] }) => {
        stmt = q;
        return { rows: [{ n: '0' }] };
      }) as unknown as Queryable['query'],
    };
    await settleRows(spy, 'me', s);
    const { text, values } = stmt!;
    const session = await drainPool.connect();
    try {
      await session.query('BEGIN');
      await session.query(`SET LOCAL plan_cache_mode = ${mode}`);
      await session.query(`PREPARE settle_plan AS ${text}`);
      // Arrays the statement still sends as JS arrays (timestamps, nulls) in Postgres's array text.
      const text_ = (v: unknown): string =>
        Array.isArray(v)
          ? `{${v.map((x) => (x == null ? 'NULL' : `"${x instanceof Date ? x.toISOString() : String(x)}"`)).join(',')}}`
          : String(v);
      const args = values.map((v) => (v === null ? 'NULL' : session.escapeLiteral(text_(v)))).join(', ');
      const plan = await session.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, TIMING OFF) EXECUTE settle_plan(${args})`,
      );
      return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await session.query('ROLLBACK').catch(() => undefined);
      await session.query('DEALLOCATE ALL').catch(() => undefined);
      session.release();
    }
  }

  const attempts = () => ({
    queueIds: ids,
    startedMs: ids.map(() => Date.now()),
    durationMs: ids.map(() => 1),
    errorCodes: ids.map(() => null),
    bodies: ids.map(() => 'ok'),
  });
  const flushes: Record<string, () => SettleRows> = {
    '2,000 delivered rows': () => ({
      done: { ids, statuses: ids.map(() => 200) },
      failures: [],
      attempts: attempts(),
      health: { routes: ['crm'], ok: [true], failFrom: [null] },
    }),
    '2,000 failed rows': () => ({
      done: { ids: [], statuses: [] },
      failures: ids.map((id) => ({
        id,
        dead: false,
        runAt: new Date(Date.now() + 60_000),
        error: 'HTTP 500',
        status: 500,
        response: null,
      })),
      attempts: attempts(),
    }),
  };

  for (const [what, flush] of Object.entries(flushes))
    for (const mode of ['force_custom_plan', 'force_generic_plan'] as const)
      it(`a flush of ${what} (${mode}) updates exactly its 2,000 rows, never scans the table and never compares an id with more than one row`, async () => {
        const plan = await planOf(flush(), mode);
        expect(plan).not.toMatch(/Seq Scan on event_queue/);
        for (const m of plan.matchAll(/Rows Removed by Join Filter: ([\d.]+)/g))
          expect(Number(m[1])).toBeLessThan(ids.length);
        const updated = [...plan.matchAll(/Update on event_queue q(?:_1)?\s+\(.*actual rows=([\d.]+)/g)].map(
          (m) => Number(m[1]),
        );
        expect(updated.reduce((a, b) => a + b, 0)).toBe(ids.length);
      }, 60_000);
});
