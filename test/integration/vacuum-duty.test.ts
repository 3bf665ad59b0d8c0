import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableChurn } from '../../src/db/queue/vacuum';
import { vacuumPass } from '../../src/drain/vacuum-duty';
import { createTestDb, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/wait';

const logged: Array<{ o: object; m: string }> = [];
const log = {
  info: (o: object, m: string) => logged.push({ o, m }),
  warn: (o: object, m: string) => logged.push({ o, m }),
  error: (o: object, m: string) => logged.push({ o, m }),
};

describe("the coordinator's vacuum of the queue (for a Postgres whose autovacuum is off or behind)", () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
    await db.pool.query('ALTER TABLE event_queue SET (autovacuum_enabled = false)');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const churn = async () => (await tableChurn(db.pool, ['event_queue']))[0];

  it('leaves a table with few dead rows alone, and vacuums event_queue once 60,000 settled rows left their dead versions', async () => {
    await db.pool.query(
      `INSERT INTO event_queue (event_id, route, entity, record_id, op, source, occurred_at)
       SELECT gen_random_uuid(), 'r', 'e', g::text, 'update', 'api', now() FROM generate_series(1, 60000) g`,
    );
    await vacuumPass(db.pool, log);
    expect(logged).toEqual([]);

    // Claimed, then settled: two dead versions per row, as the drain leaves them.
    await db.pool.query(`UPDATE event_queue SET state = 'running'`);
    await db.pool.query(`UPDATE event_queue SET state = 'done', done_at = now()`);
    await waitFor(async () => (await churn()).dead >= 100_000, 'dead row versions counted');

    await vacuumPass(db.pool, log);
    expect(logged).toHaveLength(1);
    expect(logged[0].m).toBe('vacuumed event_queue: its dead rows had piled up (autovacuum off or behind)');
    expect(logged[0].o).toMatchObject({ table: 'event_queue', live: expect.any(Number) });
    await waitFor(async () => (await churn()).dead < 1000, 'dead row versions removed');
    expect((await churn()).sinceVacuumMs).toBeLessThan(60_000);

    // Just vacuumed: not again within the minimum gap, whatever piles up meanwhile.
    await db.pool.query(`UPDATE event_queue SET attempts = attempts + 1`);
    await db.pool.query(`UPDATE event_queue SET attempts = attempts + 1`);
    await waitFor(async () => (await churn()).dead >= 100_000, 'dead row versions counted again');
    await vacuumPass(db.pool, log);
    expect(logged).toHaveLength(1);
  });
});
