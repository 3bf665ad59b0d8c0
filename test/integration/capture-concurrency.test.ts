import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture } from '../../src/capture/triggers';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const WRITERS = 6;
const TRANSACTIONS = 120;
const IDS = 40;

type Op = 'insert' | 'update' | 'delete';
interface Delivery {
  recordId: string;
  op: Op;
  payload: { id: number; v: number; note: string } | null;
}

/**
 * Concurrent writers on one captured table, each on its own connection, with the service fanning out and
 * delivering all along: updates, upserts that insert or update, deletes, key changes, multi-row and
 * multi-statement transactions, and rolled-back ones. Every writer records what its committed transactions
 * changed (RETURNING says which rows a statement really touched); the sink must see exactly that.
 */
describe('captured table under concurrent writers', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(`CREATE TABLE acct (id bigint PRIMARY KEY, v int NOT NULL, note text NOT NULL)`);
    await db.pool.query(`INSERT INTO acct SELECT g, 0, 'seed' FROM generate_series(1, ${IDS}) g`);
    await addCapture(db.pool, { table: 'acct', entity: 'acct' });
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'sink',
          match: { entity: 'acct' },
          connector: 'webhook',
          options: { url: `${sink.url}/hook` },
          concurrency: 16,
          coalesce: false,
        },
      ],
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('every committed change reaches the sink once, each record ends at its final row, rolled-back changes send nothing', async () => {
    // Committed changes per record and op, as the writers saw them (every UPDATE here changes a column:
    // one that changes nothing is rightly not a change).
    const committed = new Map<string, Record<Op, number>>();
    const add = (id: string | number, op: Op) => {
      const c = committed.get(String(id)) ?? { insert: 0, update: 0, delete: 0 };
      c[op]++;
      committed.set(String(id), c);
    };
    const writer = async (w: number) => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      let seed = w * 7919 + 1;
      const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
      try {
        for (let t = 0; t < TRANSACTIONS; t++) {
          const id = 1 + rnd(IDS);
          const kind = rnd(100);
          const changes: Array<[number | string, Op]> = [];
          await c.query('BEGIN');
          try {
            if (kind < 50) {
              const r = await c.query(`UPDATE acct SET v = v + 1, note = $2 WHERE id = $1 RETURNING id`, [
                id,
                `w${w}`,
              ]);
              for (const row of r.rows) changes.push([row.id, 'update']);
            } else if (kind < 70) {
              const r = await c.query(
                `INSERT INTO acct (id, v, note) VALUES ($1, 100, $2)
                 ON CONFLICT (id) DO UPDATE SET v = acct.v + 1, note = excluded.note RETURNING id, (xmax = 0) AS inserted`,
                [id, `u${w}`],
              );
              for (const row of r.rows) changes.push([row.id, row.inserted ? 'insert' : 'update']);
            } else if (kind < 80) {
              const r = await c.query(`DELETE FROM acct WHERE id = $1 RETURNING id`, [id]);
              for (const row of r.rows) changes.push([row.id, 'delete']);
            } else if (kind < 85) {
              // A key change: a delete of the old id and an insert of a new one (ids above IDS, one per writer and turn).
              const to = 1000 + w * TRANSACTIONS + t;
              const r = await c.query(`UPDATE acct SET id = $2 WHERE id = $1 RETURNING id`, [id, to]);
              if (r.rowCount) changes.push([id, 'delete'], [to, 'insert']);
            } else if (kind < 92) {
              // Two statements, one of several rows (an UPDATE of a range: the multi-row journal path).
              const r1 = await c.query(
                `UPDATE acct SET v = v + 1 WHERE id BETWEEN $1 AND $1 + 9 RETURNING id`,
                [id],
              );
              const r2 = await c.query(
                `UPDATE acct SET v = v + 1, note = 'pair' WHERE id = $1 RETURNING id`,
                [1 + rnd(IDS)],
              );
              for (const row of [...r1.rows, ...r2.rows]) changes.push([row.id, 'update']);
            } else {
              // Rolled back: a new id, and a change to an existing row, neither may ever be sent.
              await c.query(`INSERT INTO acct VALUES ($1, -1, 'rolled-back')`, [900_000 + w * 1000 + t]);
              await c.query(`UPDATE acct SET note = 'rolled-back' WHERE id = $1`, [id]);
              await c.query('ROLLBACK');
              continue;
            }
            await c.query('COMMIT');
          } catch (err) {
            // Two writers locking the same rows in opposite orders: Postgres aborts one; it committed nothing.
            if ((err as { code?: string }).code !== '40P01') throw err;
            await c.query('ROLLBACK');
            continue;
          }
          for (const [cid, op] of changes) add(cid, op);
        }
      } finally {
        await c.end();
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));

    const expected = [...committed.values()].reduce((s, c) => s + c.insert + c.update + c.delete, 0);
    expect(expected).toBeGreaterThan(WRITERS * TRANSACTIONS * 0.7);
    await waitFor(() => sink.requests.length >= expected, `${expected} callouts`, { timeoutMs: 20_000 });
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM sluice_capture_batch`)) === 0 &&
        (await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE state <> 'done'`)) === 0,
      'journal and queue empty',
    );
    const got = sink.requests.map((r) => JSON.parse(r.body) as Delivery);
    expect(got).toHaveLength(expected);

    const byRecord = new Map<string, Delivery[]>();
    for (const d of got) byRecord.set(d.recordId, [...(byRecord.get(d.recordId) ?? []), d]);
    // Nothing from the rolled-back transactions.
    expect([...byRecord.keys()].filter((id) => Number(id) >= 900_000)).toEqual([]);
    expect(got.filter((d) => d.payload?.note === 'rolled-back')).toEqual([]);
    // Each record: as many inserts, updates and deletes as were committed.
    for (const [id, c] of committed) {
      const mine = byRecord.get(id) ?? [];
      const n = (op: Op) => mine.filter((d) => d.op === op).length;
      expect({ id, insert: n('insert'), update: n('update'), delete: n('delete') }).toEqual({ id, ...c });
    }
    // Each record's last delivery is its final state: the row as it is now, or a delete if it is gone.
    const final = new Map(
      (await db.pool.query(`SELECT id, v, note FROM acct`)).rows.map((r) => [String(r.id), r]),
    );
    for (const [id, mine] of byRecord) {
      const last = mine.at(-1)!;
      const row = final.get(id);
      const want = row
        ? {
            id,
            op: expect.stringMatching(/^(insert|update)$/),
            payload: { id: Number(id), v: row.v, note: row.note },
          }
        : { id, op: 'delete', payload: expect.anything() };
      expect({ id, op: last.op, payload: last.payload }).toEqual(want);
    }
  });
});
