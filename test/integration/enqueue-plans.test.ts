import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteSchema } from '../../src/config/route-schema';
import { FEW_IDS } from '../../src/db/migrations/0021-enqueue-cached-plans';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { count, createTestDb, USER_AND_SLUICE, type TestDb } from '../helpers/db';

/**
 * Migration 0021: calls of few ids run on a plan cached per session (sluice_enqueue_few). A plan cached while
 * the queue was empty must still reach event_queue only through indexes once the queue is big, or every
 * small push would read the whole queue (what a plain generic plan did, 0019).
 */
describe('sluice_enqueue: small calls on a cached plan, real Postgres', () => {
  let db: TestDb;
  let session: Client;

  /** event_queue's scans in the session's current transaction, after one enqueue of `ids`. */
  const scansOf = async (ids: string[]) => {
    await session.query('BEGIN');
    try {
      const n = await session.query<{ n: number }>(
        `SELECT sluice_enqueue('account', 'update', 'api', $1::text[], NULL, NULL, false) AS n`,
        [ids],
      );
      const { rows } = await session.query<{ seq_scan: string; idx_scan: string; fetched: string }>(
        `SELECT seq_scan, idx_scan, idx_tup_fetch AS fetched FROM pg_stat_xact_user_tables WHERE relname = 'event_queue'`,
      );
      const r = rows[0];
      return { n: n.rows[0].n, seq: Number(r.seq_scan), idx: Number(r.idx_scan), fetched: Number(r.fetched) };
    } finally {
      await session.query('COMMIT');
    }
  };

  beforeAll(async () => {
    db = await createTestDb();
    await syncRoutes(db.pool, [
      RouteSchema.parse({ name: 'sink', match: { entity: 'account' }, connector: 'webhook', options: {} }),
    ]);
    session = new Client({ connectionString: db.url, options: USER_AND_SLUICE });
    await session.connect();
  });

  afterAll(async () => {
    await session?.end();
    await db?.drop();
  });

  it('plans a small call once while the queue is empty and still probes event_queue only by index when it holds 100,000 pending rows', async () => {
    // The session caches its plan on an empty, analyzed queue.
    await db.pool.query('ANALYZE event_queue');
    expect((await scansOf(['first'])).n).toBe(1);
    // 100,000 pending rows in one big call (sluice_enqueue_many), statistics left stale.
    await db.pool.query(
      `SELECT sluice_enqueue('account', 'update', 'bulk', ARRAY(SELECT 'r' || g FROM generate_series(1, 100000) g), NULL, NULL, false)`,
    );
    // A change that merges into a pending row and one that is new, on the plan cached before.
    const merged = await scansOf(['r500', 'new-1']);
    expect(merged).toMatchObject({ n: 2, seq: 0 });
    expect(merged.idx).toBeGreaterThan(0);
    // Rows read through indexes: the merged row and its probe, not the queue (100,001 with a plan that walks it).
    expect(merged.fetched).toBeLessThan(10);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE record_id = 'r500'`)).toBe(1);
    expect(await count(db.pool, `SELECT merged_count AS n FROM event_queue WHERE record_id = 'r500'`)).toBe(
      1,
    );
  });

  it(`runs calls of up to ${FEW_IDS} ids in sluice_enqueue_few and bigger ones in sluice_enqueue_many`, async () => {
    await session.query(`SET track_functions = 'pl'`);
    /** The enqueue functions a call ran: their call counts before and after it, in its transaction. */
    const calls = async () =>
      new Map(
        (
          await session.query<{ funcname: string; calls: string }>(
            `SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE funcname LIKE 'sluice_enqueue_%'`,
          )
        ).rows.map((r) => [r.funcname, Number(r.calls)]),
      );
    const callee = async (ids: string[]) => {
      await session.query('BEGIN');
      try {
        const before = await calls();
        const n = await session.query<{ n: number }>(
          `SELECT sluice_enqueue('account', 'update', 'api', $1::text[], NULL, NULL, false) AS n`,
          [ids],
        );
        const after = await calls();
        const ran = [...after].filter(([f, c]) => c > (before.get(f) ?? 0)).map(([f]) => f);
        return { n: n.rows[0].n, ran };
      } finally {
        await session.query('COMMIT');
      }
    };
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}-${k}`);
    expect(await callee(ids('few', FEW_IDS))).toEqual({ n: FEW_IDS, ran: ['sluice_enqueue_few'] });
    expect(await callee(ids('many', FEW_IDS + 1))).toEqual({ n: FEW_IDS + 1, ran: ['sluice_enqueue_many'] });
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE record_id LIKE 'few-%'`)).toBe(
      FEW_IDS,
    );
  });
});
