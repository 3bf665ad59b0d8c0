import type { Pool, PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleRows, type SettleRows } from '../../src/db/queue/settle-rows';
import { createTestDb, drainSessions, type TestDb } from '../helpers/db';
import { explainedSession, insertQueueRows, queueWork, type PlanNode } from '../helpers/plans';

/**
 * The settle must cost O(flush) whatever the statistics say and whatever the table looked like when the
 * session planned it (issue #12). Each case settles a flush on a drain session with auto_explain sending the
 * plans of every statement (the nested ones too) to the client, and adds up what the plans read from
 * event_queue: rows returned and removed by filters, times loops, and the comparisons of joins.
 *
 * Shapes that broke earlier forms of the statement:
 * - stale statistics taken while every row was done (drain-stale-stats): the guard `state = 'running'` implied
 *   event_queue_key_idx's predicate, thought empty, and the generic plan walked that index, the whole backlog,
 *   per flush (~300,000 entries, ~100 ms for 500 rows);
 * - statistics that saw pending rows but none running: found by primary key (`state NOT IN (...)`), a custom
 *   plan seq-scanned the running rows and compared each with every id of the flush (2,000 rows: ~560 ms);
 * - a plan made while the table held two rows (a fresh install's first flush), kept by the session as the table
 *   grows: a generic plan for a tiny table scans the whole primary key.
 */
describe('the settle on stale statistics and on plans made for another table size', () => {
  const BACKLOG = 100_000;
  const FLUSH_MAX = 2_000;

  const flush = (ids: string[], outcome: 'delivered' | 'failed'): SettleRows => ({
    done: outcome === 'delivered' ? { ids, statuses: ids.map(() => 200) } : { ids: [], statuses: [] },
    failures:
      outcome === 'failed'
        ? ids.map((id) => ({
            id,
            dead: false,
            runAt: new Date(Date.now() + 60_000),
            error: 'HTTP 500',
            status: 500,
            response: 'no',
          }))
        : [],
    attempts: {
      queueIds: ids,
      startedMs: ids.map(() => Date.now()),
      durationMs: ids.map(() => 1),
      errorCodes: ids.map(() => null),
      bodies: ids.map(() => 'ok'),
    },
    health: {
      routes: ['crm'],
      ok: [outcome === 'delivered'],
      failFrom: [outcome === 'delivered' ? null : new Date()],
    },
  });

  /** Settles `s` in a transaction rolled back after; returns what the settle said and what its plans read. */
  async function settleExplained(client: PoolClient, plans: PlanNode[], s: SettleRows) {
    plans.length = 0;
    await client.query('BEGIN');
    try {
      const n = await settleRows(client, 'me', s);
      const ids = [...s.done.ids, ...s.failures.map((f) => f.id)];
      const { rows } = await client.query<{ state: string; n: string }>(
        `SELECT state, count(*) AS n FROM event_queue WHERE id = ANY ($1::bigint[]) GROUP BY 1`,
        [ids],
      );
      return {
        n,
        states: Object.fromEntries(rows.map((r) => [r.state, Number(r.n)])),
        ...queueWork([...plans]),
      };
    } finally {
      await client.query('ROLLBACK');
    }
  }

  const insert = insertQueueRows;
  /** FLUSH_MAX rows running under 'me' and as many under 'other'; returns 'me''s ids. */
  async function lease(pool: Pool): Promise<string[]> {
    await pool.query(
      `UPDATE event_queue SET state = 'running', locked_until = now() + interval '1 minute',
              locked_by = CASE WHEN rn <= $1 THEN 'me' ELSE 'other' END
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM event_queue WHERE state = 'pending'
                ORDER BY id LIMIT $1 * 2) p
        WHERE event_queue.id = p.id`,
      [FLUSH_MAX],
    );
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM event_queue WHERE locked_by = 'me' ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }

  const shapes: Record<string, (db: TestDb) => Promise<void>> = {
    'statistics taken while every row was done (the key index looked empty)': async (db) => {
      await insert(db.pool, 2 * BACKLOG, 'done');
      await db.pool.query('ANALYZE event_queue');
      await insert(db.pool, BACKLOG, 'pending');
    },
    'statistics that saw pending rows but none running': async (db) => {
      await insert(db.pool, BACKLOG, 'pending');
      await db.pool.query('ANALYZE event_queue');
    },
  };

  for (const [shape, build] of Object.entries(shapes))
    describe(shape, () => {
      let db: TestDb;
      let drainPool: Pool;
      let ids: string[];
      beforeAll(async () => {
        db = await createTestDb();
        drainPool = drainSessions(db.url);
        await db.pool.query('ALTER TABLE event_queue SET (autovacuum_enabled = false)');
        await build(db);
        ids = await lease(db.pool);
      }, 180_000);
      afterAll(async () => {
        await drainPool?.end();
        await db?.drop();
      });

      for (const size of [100, FLUSH_MAX])
        for (const outcome of ['delivered', 'failed'] as const)
          for (const mode of ['auto', 'force_custom_plan', 'force_generic_plan'])
            it(`a flush of ${size} ${outcome} rows (session plan_cache_mode ${mode}) settles exactly those rows, reads at most 2 queue rows per row and scans no table`, async () => {
              const { client, plans } = await explainedSession(drainPool);
              try {
                await client.query(`SET plan_cache_mode = ${mode}`);
                // The same session settles six times, as a drain does: the plan it keeps is the one checked last.
                let r: Awaited<ReturnType<typeof settleExplained>> | null = null;
                for (let i = 0; i < 6; i++)
                  r = await settleExplained(client, plans, flush(ids.slice(0, size), outcome));
                expect(r!.n).toBe(size);
                expect(r!.states).toEqual({ [outcome === 'delivered' ? 'done' : 'pending']: size });
                expect(r!.seqScans).toBe(0);
                expect(r!.queueRows).toBeLessThanOrEqual(2 * size);
                expect(r!.joinFiltered).toBeLessThan(size);
              } finally {
                client.release(true);
              }
            }, 60_000);
    });

  describe('a plan made while the table held two rows, run after it grew to 100,000 without new statistics', () => {
    let db: TestDb;
    let drainPool: Pool;
    beforeAll(async () => {
      db = await createTestDb();
      drainPool = drainSessions(db.url);
      await db.pool.query('ALTER TABLE event_queue SET (autovacuum_enabled = false)');
    }, 60_000);
    afterAll(async () => {
      await drainPool?.end();
      await db?.drop();
    });

    for (const outcome of ['delivered', 'failed'] as const)
      it(`a session that settled 1 ${outcome} row of a 2-row table then settles 2,000 of the grown one, reading at most 2 queue rows per row`, async () => {
        await db.pool.query('TRUNCATE event_queue');
        await insert(db.pool, 2, 'pending');
        await db.pool.query('ANALYZE event_queue');
        const first = (await lease(db.pool)).slice(0, 1);
        const { client, plans } = await explainedSession(drainPool);
        try {
          for (let i = 0; i < 6; i++)
            expect((await settleExplained(client, plans, flush(first, outcome))).n).toBe(1);
          await db.pool.query(`UPDATE event_queue SET state = 'done', locked_by = NULL, locked_until = NULL`);
          await insert(db.pool, BACKLOG, 'pending');
          const ids = await lease(db.pool);
          const r = await settleExplained(client, plans, flush(ids, outcome));
          expect(r.n).toBe(FLUSH_MAX);
          expect(r.seqScans).toBe(0);
          expect(r.queueRows).toBeLessThanOrEqual(2 * FLUSH_MAX);
          expect(r.joinFiltered).toBeLessThan(FLUSH_MAX);
        } finally {
          client.release(true);
        }
      }, 120_000);
  });
});
