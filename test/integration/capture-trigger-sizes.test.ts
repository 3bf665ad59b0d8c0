import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture } from '../../src/capture/triggers';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { createTestDb, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/wait';

type Row = { id: number; v: number };
type Event = [op: string, payload: Row | null];

/**
 * The trigger journals a statement in one of three ways by its size (one journal row per change up to 8
 * rows, one per op up to 200, planned for its real size above); each must capture the same changes.
 */
describe('capture triggers, by statement size', () => {
  let db: TestDb;
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);

  beforeAll(async () => {
    db = await createTestDb();
    await q(`INSERT INTO sluice_route (name, entity) VALUES ('all', '*')`);
    await q(
      `CREATE TABLE sized_latest (id int PRIMARY KEY, v int); CREATE TABLE sized_exact (id int PRIMARY KEY, v int)`,
    );
    await addCapture(db.pool, { table: 'sized_latest' });
    await addCapture(db.pool, { table: 'sized_exact', payload: 'exact' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Per record, its events in order. */
  async function eventsByRecord(entity: string): Promise<Map<number, Event[]>> {
    await fanOutAll(db.pool);
    const { rows } = await q(`SELECT record_id, op, payload FROM event_log WHERE entity = $1 ORDER BY id`, [
      entity,
    ]);
    const out = new Map<number, Event[]>();
    for (const r of rows)
      out.set(Number(r.record_id), [...(out.get(Number(r.record_id)) ?? []), [r.op, r.payload]]);
    return out;
  }

  for (const n of [1, 8, 9, 200, 201, 1000]) {
    it(`${n}-row statements: inserts, updates, a no-op update, a key change mixed with updates, deletes`, async () => {
      const base = n * 10_000;
      const [first, last] = [base + 1, base + n];
      const moved = first + 5_000;
      for (const t of ['sized_latest', 'sized_exact']) {
        await q(`INSERT INTO ${t} SELECT g, 0 FROM generate_series($1::int, $2::int) g`, [first, last]);
        await q(`UPDATE ${t} SET v = v + 1 WHERE id BETWEEN $1 AND $2`, [first, last]);
        await q(`UPDATE ${t} SET v = v WHERE id BETWEEN $1 AND $2`, [first, last]);
        await q(
          `UPDATE ${t} SET id = CASE WHEN id = $1 THEN $3 ELSE id END, v = v + 1 WHERE id BETWEEN $1 AND $2`,
          [first, last, moved],
        );
        await q(`DELETE FROM ${t} WHERE id BETWEEN $1 AND $2 OR id = $3`, [first, last, moved]);
      }
      for (const [t, exact] of [
        ['sized_latest', false],
        ['sized_exact', true],
      ] as const) {
        const ev = await eventsByRecord(t);
        const row = (id: number, v: number) => ({ id, v });
        // latest: inserts and updates read the row at fan-out (gone by then); a delete carries its old row.
        const img = (id: number, v: number) => (exact ? row(id, v) : null);
        const want = new Map<number, Event[]>();
        want.set(first, [
          ['insert', img(first, 0)],
          ['update', img(first, 1)],
          ['delete', row(first, 1)],
        ]);
        want.set(moved, [
          ['insert', img(moved, 2)],
          ['delete', row(moved, 2)],
        ]);
        for (let id = first + 1; id <= last; id++)
          want.set(id, [
            ['insert', img(id, 0)],
            ['update', img(id, 1)],
            ['update', img(id, 2)],
            ['delete', row(id, 2)],
          ]);
        const mine = new Map([...ev].filter(([id]) => id > base && id <= base + 9_999));
        expect(mine).toEqual(want);
      }
    });
  }

  it('a captured write sends no NOTIFY (a notifying commit would serialise every writer)', async () => {
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (m) => heard.push(m.payload ?? ''));
      await listener.query('LISTEN sluice');
      await q(`INSERT INTO sized_latest VALUES (1, 0)`);
      await q(`UPDATE sized_latest SET v = 1 WHERE id = 1`);
      await q(`DELETE FROM sized_latest WHERE id = 1`);
      // Notifications arrive in commit order: anything the writes sent comes before this marker.
      await q(`SELECT pg_notify('sluice', 'marker')`);
      await waitFor(() => heard.includes('marker'), 'the marker notification');
      expect(heard).toEqual(['marker']);
    } finally {
      await listener.end();
    }
  });
});
