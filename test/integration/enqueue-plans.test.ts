import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteSchema } from '../../src/config/route-schema';
import { FEW_IDS } from '../../src/db/migrations/0021-enqueue-cached-plans';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { count, createTestDb, USER_AND_SLUICE, type TestDb } from '../helpers/db';

// Migration 0021: calls of few ids run on a plan cached per session (sluice_enqueue_few). A plan cached while
// the queue was small must still reach event_queue only through indexes once the queue is big, or every
// small push would read the whole queue (what a plain generic plan did, 0019).

/** A fresh database with one route and one session of its own (its plans cached for it alone). */
function withSession() {
  const t = {} as { db: TestDb; session: Client };
  beforeAll(async () => {
    t.db = await createTestDb();
    await syncRoutes(t.db.pool, [
      RouteSchema.parse({ name: 'sink', match: { entity: 'account' }, connector: 'webhook', options: {} }),
    ]);
    t.session = new Client({ connectionString: t.db.url, options: USER_AND_SLUICE });
    await t.session.connect();
  });
  afterAll(async () => {
    await t.session?.end();
    await t.db?.drop();
  });
  return t;
}

/**
 * One enqueue of `ids` on `session`, in a transaction of its own, with `look` run inside that transaction just
 * before and just after the call (the pg_stat_xact_* views read there).
 */
async function enqueueLooking<T>(session: Client, ids: string[], look: () => Promise<T>) {
  await session.query('BEGIN');
  try {
    const before = await look();
    const n = await session.query<{ n: number }>(
      `SELECT sluice_enqueue('account', 'update', 'api', $1::text[], NULL, NULL, false) AS n`,
      [ids],
    );
    return { n: n.rows[0].n, before, after: await look() };
  } finally {
    await session.query('COMMIT');
  }
}

describe.each([
  ['empty, never analyzed', 0, false],
  ['empty, analyzed', 0, true],
  ['1,000 pending rows, never analyzed', 1000, false],
])(
  'sluice_enqueue: a small call on a plan cached on a small queue (%s), real Postgres',
  (_, before, analyze) => {
    const t = withSession();

    /** event_queue's scans in the session's current transaction, after one enqueue of `ids`. */
    const scansOf = async (ids: string[]) => {
      const { session } = t;
      // Rows fetched through indexes and index pages visited (every index of event_queue), in this transaction.
      const scans = async () => {
        const { rows } = await session.query<{
          seq_scan: string;
          idx_scan: string;
          fetched: string;
          pages: string;
        }>(
          `SELECT t.seq_scan, t.idx_scan, t.idx_tup_fetch AS fetched,
                (SELECT sum(pg_stat_get_xact_blocks_fetched(i.indexrelid)) FROM pg_index i
                  WHERE i.indrelid = t.relid) AS pages
           FROM pg_stat_xact_user_tables t WHERE t.relname = 'event_queue'`,
        );
        const r = rows[0];
        return {
          seq: Number(r.seq_scan),
          idx: Number(r.idx_scan),
          fetched: Number(r.fetched),
          pages: Number(r.pages),
        };
      };
      const { n, after } = await enqueueLooking(session, ids, scans);
      return { n, ...after };
    };

    it('merges and inserts reading under 10 rows and 100 index pages of event_queue, no sequential scan, once it holds 100,000 pending rows', async () => {
      const { db } = t;
      // The session caches its plan on a small queue.
      const bulk = (from: number, to: number) =>
        db.pool.query(
          `SELECT sluice_enqueue('account', 'update', 'bulk', ARRAY(SELECT 'r' || g FROM generate_series($1::int, $2::int) g), NULL, NULL, false)`,
          [from, to],
        );
      if (before > 0) await bulk(1, before);
      if (analyze) await db.pool.query('ANALYZE event_queue');
      // Its first call merges into a pending row when there is one (r1), as most small calls may.
      const first = await scansOf(before > 0 ? ['r1', 'first'] : ['first']);
      expect(first).toMatchObject({ n: before > 0 ? 2 : 1, seq: 0 });
      expect(first.fetched).toBeLessThan(10);
      expect(first.pages).toBeLessThan(100);
      // 100,000 pending rows in all through big calls (sluice_enqueue_many), statistics left stale.
      await bulk(before + 1, 100_000);
      // A change that merges into a pending row and one that is new, on the plan cached before.
      const merged = await scansOf(['r500', 'new-1']);
      expect(merged).toMatchObject({ n: 2, seq: 0 });
      expect(merged.idx).toBeGreaterThan(0);
      // The merged row, its probe and the inserts' index pages, not the queue: a plan that walks one of its
      // indexes visits every page of it (~700 for the key index at 100,000 rows).
      expect(merged.fetched).toBeLessThan(10);
      expect(merged.pages).toBeLessThan(100);
      expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE record_id = 'r500'`)).toBe(1);
      expect(await count(db.pool, `SELECT merged_count AS n FROM event_queue WHERE record_id = 'r500'`)).toBe(
        1,
      );
    });
  },
);

describe('sluice_enqueue: the dispatch by size, real Postgres', () => {
  const t = withSession();

  it(`runs calls of up to ${FEW_IDS} ids in sluice_enqueue_few and bigger ones in sluice_enqueue_many`, async () => {
    const { db, session } = t;
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
      const { n, before, after } = await enqueueLooking(session, ids, calls);
      const ran = [...after].filter(([f, c]) => c > (before.get(f) ?? 0)).map(([f]) => f);
      return { n, ran };
    };
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}-${k}`);
    expect(await callee(ids('few', FEW_IDS))).toEqual({ n: FEW_IDS, ran: ['sluice_enqueue_few'] });
    expect(await callee(ids('many', FEW_IDS + 1))).toEqual({ n: FEW_IDS + 1, ran: ['sluice_enqueue_many'] });
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE record_id LIKE 'few-%'`)).toBe(
      FEW_IDS,
    );
  });
});
