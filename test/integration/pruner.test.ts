import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteSchema } from '../../src/config/route-schema';
import { enqueue } from '../../src/db/queue/enqueue';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { Pruner } from '../../src/drain/pruner';
import { count, createTestDb, type TestDb } from '../helpers/db';

const silent = { info() {}, warn() {} };

/** The pool, recording every DELETE it runs with the rows it removed. */
function recordingDeletes(pool: Pool) {
  const deletes: { table: string; rows: number }[] = [];
  const recorder = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'query') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Pool['query']>) => {
        const res = await (target.query as (...a: unknown[]) => Promise<{ rowCount: number | null }>)(
          ...args,
        );
        const m = /^\s*DELETE FROM (\w+)/i.exec(String(args[0]));
        if (m) deletes.push({ table: m[1], rows: res.rowCount ?? 0 });
        return res;
      };
    },
  });
  return { pool: recorder, deletes };
}

describe('pruning done rows and published change-log rows', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
    await syncRoutes(db.pool, [
      RouteSchema.parse({
        name: 'crm',
        match: { entity: 'account' },
        connector: 'webhook',
        options: { url: 'http://127.0.0.1:1/' },
      }),
    ]);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('deletes old done and old published rows in small batches, and keeps dead letters, recent and live rows', async () => {
    await enqueue(db.pool, {
      entity: 'account',
      op: 'update',
      source: 't',
      ids: Array.from({ length: 25 }, (_, i) => `a${i}`),
    });
    // 20 old done rows, 2 old dead letters, 2 recent done rows, 1 pending; 20 old published log rows.
    await db.pool.query(`
      WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM event_queue)
      UPDATE event_queue q SET
        state = CASE WHEN r.n <= 20 THEN 'done' WHEN r.n <= 22 THEN 'dead' WHEN r.n <= 24 THEN 'done' ELSE 'pending' END,
        done_at = CASE WHEN r.n <= 22 THEN now() - interval '8 days' WHEN r.n <= 24 THEN now() END
      FROM ranked r WHERE q.id = r.id`);
    await db.pool.query(`
      WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM event_log)
      UPDATE event_log l SET published_at = CASE WHEN r.n <= 20 THEN now() - interval '8 days' WHEN r.n <= 22 THEN now() END
      FROM ranked r WHERE l.id = r.id`);

    let leader = true;
    const recorded = recordingDeletes(db.pool);
    const pruner = new Pruner(
      recorded.pool,
      () => leader,
      { retentionMs: 7 * 86_400_000, intervalMs: 60_000, chunk: 3, pauseMs: 1 },
      silent,
    );
    expect(await pruner.runOnce()).toEqual({ done: 20, published: 20, attempts: 0 });
    // In batches of at most `chunk` (3) rows per statement: 20 rows take 7 deletes (the 7th removes 2, ending the run).
    for (const table of ['event_queue', 'event_log']) {
      const batches = recorded.deletes.filter((d) => d.table === table).map((d) => d.rows);
      expect(batches, table).toEqual([3, 3, 3, 3, 3, 3, 2]);
    }
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'dead'`)).toBe(2);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue`)).toBe(5);
    // Unpublished rows (Kafka behind) and recently published ones stay.
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log`)).toBe(5);
    expect(pruner.stats).toMatchObject({ runs: 1, done: 20, published: 20 });

    // Only the leader prunes.
    await db.pool.query(`UPDATE event_queue SET done_at = now() - interval '30 days' WHERE state = 'done'`);
    leader = false;
    expect(await pruner.runOnce()).toEqual({ done: 0, published: 0, attempts: 0 });
  });
});
