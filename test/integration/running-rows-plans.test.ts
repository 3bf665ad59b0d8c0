import type { Pool, PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseLaneRows } from '../../src/db/lease/lane-sql';
import { heartbeat } from '../../src/db/queue/heartbeat';
import { recoverExpired, releaseMine } from '../../src/db/queue/recover';
import { createTestDb, drainSessions, type TestDb } from '../helpers/db';
import { explainedSession, insertQueueRows, queueWork, type PlanNode } from '../helpers/plans';

/**
 * The queries that find the rows in flight (heartbeat, recovery sweep, releases) read those rows, not the
 * backlog, whatever the statistics (issue #12). On statistics taken while every row was done, `state = 'running'`
 * let the planner walk event_queue_key_idx (all pending rows) instead of the running rows' index: a heartbeat
 * read 300,000 entries for its 2,000 rows on drain-stale-stats' queue.
 */
describe('queries on the rows in flight, on statistics taken while every row was done', () => {
  const BACKLOG = 100_000;
  const RUNNING = 2_000; // per holder, two holders
  let db: TestDb;
  let drainPool: Pool;
  let mine: string[];

  beforeAll(async () => {
    db = await createTestDb();
    drainPool = drainSessions(db.url);
    await db.pool.query('ALTER TABLE event_queue SET (autovacuum_enabled = false)');
    const insert = (n: number, state: string) => insertQueueRows(db.pool, n, state);
    await insert(2 * BACKLOG, 'done');
    await db.pool.query('ANALYZE event_queue');
    await insert(BACKLOG, 'pending');
    // RUNNING rows of 'me' (leases live), RUNNING of 'other' (half of them expired).
    await db.pool.query(
      `UPDATE event_queue SET state = 'running', attempts = 1,
              locked_by = CASE WHEN p.rn <= $1 THEN 'me' ELSE 'other' END,
              locked_until = CASE WHEN p.rn > $1 * 1.5 THEN now() - interval '1 minute' ELSE now() + interval '1 minute' END
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM event_queue WHERE state = 'pending'
                ORDER BY id LIMIT $1 * 2) p
        WHERE event_queue.id = p.id`,
      [RUNNING],
    );
    mine = (
      await db.pool.query<{ id: string }>(`SELECT id FROM event_queue WHERE locked_by = 'me' ORDER BY id`)
    ).rows.map((r) => r.id);
  }, 180_000);
  afterAll(async () => {
    await drainPool?.end();
    await db?.drop();
  });

  /** Runs `q` on an explained drain session in a transaction rolled back after: its result and plans' reads. */
  async function explained<T>(q: (c: PoolClient) => Promise<T>) {
    const { client, plans } = await explainedSession(drainPool);
    try {
      await client.query('BEGIN');
      plans.length = 0;
      const result = await q(client);
      return { result, ...queueWork([...(plans as PlanNode[])]) };
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
    }
  }

  const cases: Array<[string, (c: PoolClient) => Promise<number>, number]> = [
    ['the heartbeat extends the 2,000 rows of its holder', (c) => heartbeat(c, 'me', 60_000), RUNNING],
    ['the recovery sweep hands back the 1,000 expired rows', (c) => recoverExpired(c), RUNNING / 2],
    ['a release at shutdown hands back the 2,000 rows of its holder', (c) => releaseMine(c, 'me'), RUNNING],
    ['a stopped batch hands back its 500 rows', (c) => releaseMine(c, 'me', mine.slice(0, 500)), 500],
    [
      "a lane takeover hands back the other holder's 2,000 rows",
      (c) =>
        releaseLaneRows(
          c,
          'me',
          Array.from({ length: 32 }, (_, i) => i),
          mine,
        ),
      RUNNING,
    ],
  ];
  for (const [what, q, expected] of cases)
    it(`${what}, reading at most the 4,000 rows in flight of event_queue and scanning no table`, async () => {
      const r = await explained(q);
      expect(r.result).toBe(expected);
      expect(r.seqScans).toBe(0);
      expect(r.queueRows).toBeLessThanOrEqual(2 * RUNNING);
    }, 60_000);
});
