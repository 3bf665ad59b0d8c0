import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleRows } from '../../src/db/queue/settle-rows';
import { createTestDb, drainSessions, type TestDb } from '../helpers/db';

/**
 * A settle meets rows another session changed after its snapshot: the drain's own heartbeat (a later lease)
 * or a handback (recovery gave the row to another consumer). Postgres waits for that session, then rechecks
 * the settle's guard on the row's newest version: a row still running under us is settled, a row handed
 * back is left alone. (A settle that took its rows by ctid passed every plan test and left heartbeat-touched
 * rows running: a TID scan's recheck fails on the newer version.)
 */
describe('the settle against a concurrent update of its rows', () => {
  let db: TestDb;
  let drainPool: Pool;

  beforeAll(async () => {
    db = await createTestDb();
    drainPool = drainSessions(db.url);
  });
  afterAll(async () => {
    await drainPool?.end();
    await db?.drop();
  });

  /** A row running under 'me'; `change` runs on it in a transaction that commits once the settle waits on it. */
  async function settleDuring(change: string, outcome: 'delivered' | 'failed') {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, state, locked_by, locked_until, attempts)
       VALUES (gen_random_uuid(), 'crm', 'account', 'r-' || gen_random_uuid(), 'update', 'api', 'running', 'me',
               now() + interval '1 minute', 1)
       RETURNING id`,
    );
    const id = rows[0].id;
    const other = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`${change} WHERE id = $1`, [id]);
      const settled = settleRows(drainPool, 'me', {
        done: outcome === 'delivered' ? { ids: [id], statuses: [200] } : { ids: [], statuses: [] },
        failures:
          outcome === 'failed'
            ? [{ id, dead: true, runAt: new Date(), error: 'HTTP 400', status: 400, response: 'bad' }]
            : [],
        attempts: {
          queueIds: [id],
          startedMs: [Date.now()],
          durationMs: [1],
          errorCodes: [null],
          bodies: [null],
        },
      });
      // Commit only once the settle is waiting for this transaction's row lock.
      for (let waited = 0; ; waited += 20) {
        const w = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (w.rowCount) break;
        if (waited > 5000) throw new Error('the settle never waited for the row lock');
        await new Promise((r) => setTimeout(r, 20));
      }
      await other.query('COMMIT');
      const n = await settled;
      const row = await db.pool.query<{ state: string; locked_by: string | null; logged: string }>(
        `SELECT state, locked_by, (SELECT count(*) FROM sluice_attempt WHERE queue_id = $1) AS logged
           FROM event_queue WHERE id = $1`,
        [id],
      );
      return { n, ...row.rows[0], logged: Number(row.rows[0].logged) };
    } finally {
      other.release();
    }
  }

  const heartbeat = `UPDATE event_queue SET locked_until = now() + interval '2 minutes'`;
  const handback = `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL`;

  it('a delivered row whose lease a heartbeat renewed meanwhile is settled done and logged', async () => {
    expect(await settleDuring(heartbeat, 'delivered')).toEqual({
      n: 1,
      state: 'done',
      locked_by: null,
      logged: 1,
    });
  });

  it('a dead-lettered row whose lease a heartbeat renewed meanwhile is settled dead and logged', async () => {
    expect(await settleDuring(heartbeat, 'failed')).toEqual({
      n: 1,
      state: 'dead',
      locked_by: null,
      logged: 1,
    });
  });

  it('a delivered row handed back meanwhile is left pending, unsettled and unlogged', async () => {
    expect(await settleDuring(handback, 'delivered')).toEqual({
      n: 0,
      state: 'pending',
      locked_by: null,
      logged: 0,
    });
  });

  it('a failed row handed back meanwhile is left pending, unsettled and unlogged', async () => {
    expect(await settleDuring(handback, 'failed')).toEqual({
      n: 0,
      state: 'pending',
      locked_by: null,
      logged: 0,
    });
  });
});
