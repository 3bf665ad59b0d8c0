import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture, CaptureInputError, listCaptures, removeCapture } from '../../src/capture/triggers';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { count, createTestDb, type TestDb } from '../helpers/db';

describe('capture triggers', () => {
  let db: TestDb;
  const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
  // Triggers journal the changes; the fan-out (the service runs it after every commit) makes the events.
  const events = async (entity: string) => {
    await fanOutAll(db.pool);
    return (
      await q(`SELECT record_id, op, source, payload FROM event_log WHERE entity = $1 ORDER BY id`, [entity])
    ).rows as Array<{ record_id: string; op: string; source: string; payload: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    db = await createTestDb();
    await q(`INSERT INTO sluice_route (name, entity) VALUES ('all', '*')`);
    await q(`
      CREATE TABLE accounts (id bigint PRIMARY KEY, name text, plan text, doc json, touched int DEFAULT 0);
      CREATE TABLE notes (slug text PRIMARY KEY, body text);
      CREATE TABLE "Devices" (uid uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text);
      CREATE SCHEMA crm;
      CREATE TABLE crm.contacts (id bigint PRIMARY KEY, email text);
    `);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('installs three statement-level triggers with transition tables, idempotently', async () => {
    await addCapture(db.pool, { table: 'accounts' });
    await addCapture(db.pool, { table: 'accounts' });
    const { rows } = await q(
      `SELECT tgname, (tgtype & 1) AS row_level, tgoldtable, tgnewtable FROM pg_trigger
        WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(rows).toEqual([
      { tgname: 'sluice_capture_delete', row_level: 0, tgoldtable: 'sluice_old', tgnewtable: null },
      { tgname: 'sluice_capture_insert', row_level: 0, tgoldtable: null, tgnewtable: 'sluice_new' },
      { tgname: 'sluice_capture_update', row_level: 0, tgoldtable: 'sluice_old', tgnewtable: 'sluice_new' },
    ]);
    const list = await listCaptures(db.pool);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      schema: 'public',
      table: 'accounts',
      entity: 'accounts',
      idColumn: 'id',
      columns: null,
      installed: true,
    });
  });

  it('captures INSERT, UPDATE and DELETE, once each, and fans them out in commit order (bigint keys)', async () => {
    await q(
      `INSERT INTO accounts (id, name, plan, doc) VALUES (1, 'a', 'free', '{"k":1}'), (2, 'b', 'free', null)`,
    );
    await q(`UPDATE accounts SET plan = 'gold' WHERE id = 1`);
    await q(`DELETE FROM accounts WHERE id = 2`);
    const ev = await events('accounts');
    expect(ev.map((e) => [e.record_id, e.op])).toEqual([
      ['1', 'insert'],
      ['2', 'insert'],
      ['1', 'update'],
      ['2', 'delete'],
    ]);
    expect(ev.every((e) => e.source === 'trigger:public.accounts')).toBe(true);
    // The new row as the payload (the old one for a delete).
    expect(ev[2].payload).toEqual({ id: 1, name: 'a', plan: 'gold', doc: { k: 1 }, touched: 0 });
    expect(ev[3].payload).toMatchObject({ id: 2, name: 'b' });
    // Fanned out to the route too.
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE entity = 'accounts'`),
    ).toBeGreaterThan(0);
  });

  it('an UPDATE that changes nothing adds nothing (json columns compared too)', async () => {
    const before = (await events('accounts')).length;
    await q(`UPDATE accounts SET plan = plan, doc = doc`);
    expect((await events('accounts')).length).toBe(before);
  });

  it('a 10,000-row UPDATE becomes 10,000 changes from one statement', async () => {
    await q(
      `INSERT INTO accounts (id, name, plan) SELECT g, 'n' || g, 'free' FROM generate_series(100, 10099) g`,
    );
    await fanOutAll(db.pool);
    await q(`DELETE FROM event_log; DELETE FROM event_queue`);
    await q(`UPDATE accounts SET touched = touched + 1 WHERE id >= 100`);
    // One journal row for the whole statement, in the writer's transaction.
    expect((await q(`SELECT op, cardinality(ids) AS n FROM sluice_capture_batch`)).rows).toEqual([
      { op: 'update', n: 10_000 },
    ]);
    expect(await fanOutAll(db.pool, 3_000)).toBe(10_000);
    expect(await count(db.pool, `SELECT count(*) AS n FROM sluice_capture_batch`)).toBe(0);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE op = 'update'`)).toBe(10_000);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE op = 'update'`)).toBe(10_000);
    expect(await count(db.pool, `SELECT count(DISTINCT record_id) AS n FROM event_log`)).toBe(10_000);
  });

  it('a rolled-back transaction leaves no event', async () => {
    await fanOutAll(db.pool);
    const before = await count(db.pool, `SELECT count(*) AS n FROM event_log`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO accounts (id, name) VALUES (99999, 'ghost')`);
      await client.query(`UPDATE accounts SET plan = 'x' WHERE id >= 100`);
      // Journaled inside the transaction, gone with it.
      expect(await count(client as never, `SELECT count(*) AS n FROM sluice_capture_batch`)).toBe(2);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await fanOutAll(db.pool)).toBe(0);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log`)).toBe(before);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE record_id = '99999'`)).toBe(0);
  });

  it('--columns limits the payload and the watched columns', async () => {
    await addCapture(db.pool, { table: 'accounts', columns: ['plan'], entity: 'account' });
    await q(`DELETE FROM event_log`);
    await q(`UPDATE accounts SET name = 'renamed', touched = 7 WHERE id = 1`);
    expect(await events('account')).toEqual([]);
    await q(`UPDATE accounts SET plan = 'platinum' WHERE id = 1`);
    const ev = await events('account');
    expect(ev).toHaveLength(1);
    expect(ev[0].payload).toEqual({ id: 1, plan: 'platinum' });
    expect((await listCaptures(db.pool))[0]).toMatchObject({ entity: 'account', columns: ['plan'] });
  });

  it('a changed key is a delete of the old key and an insert of the new one', async () => {
    await q(`DELETE FROM event_log`);
    await q(`UPDATE accounts SET id = 5000000 WHERE id = 1`);
    expect((await events('account')).map((e) => [e.record_id, e.op])).toEqual([
      ['1', 'delete'],
      ['5000000', 'insert'],
    ]);
  });

  it('text and uuid keys, mixed-case names, another schema, another search_path', async () => {
    await addCapture(db.pool, { table: 'notes', idColumn: 'slug' });
    await addCapture(db.pool, { table: 'Devices', idColumn: 'uid', entity: 'device' });
    await addCapture(db.pool, { table: 'contacts', schema: 'crm' });
    await q(`INSERT INTO notes VALUES ('hello-world', 'hi')`);
    const { rows } = await q(`INSERT INTO "Devices" (label) VALUES ('phone') RETURNING uid`);
    const client = await db.pool.connect();
    try {
      // The application's session may not have Sluice's schema on its path.
      await client.query(`SET search_path = crm`);
      await client.query(`INSERT INTO contacts VALUES (7, 'x@example.com')`);
    } finally {
      await client.query('RESET search_path');
      client.release();
    }
    expect((await events('notes')).map((e) => e.record_id)).toEqual(['hello-world']);
    expect((await events('device')).map((e) => e.record_id)).toEqual([rows[0].uid]);
    const contacts = await events('contacts');
    expect(contacts.map((e) => [e.record_id, e.source])).toEqual([['7', 'trigger:crm.contacts']]);
  });

  describe('hostile or wrong names get a clear error and touch nothing', () => {
    const cases: Array<[string, Parameters<typeof addCapture>[1], RegExp]> = [
      [
        'SQL in the table name',
        { table: `accounts"; DROP TABLE event_log; --` },
        /table .* is not a plain identifier/,
      ],
      [
        'SQL in the schema',
        { table: 'accounts', schema: `public'; --` },
        /schema .* is not a plain identifier/,
      ],
      [
        'SQL in a column',
        { table: 'accounts', columns: ['plan', `x") ; DROP TABLE accounts; --`] },
        /column .* not a plain identifier/,
      ],
      [
        'SQL in the id column',
        { table: 'accounts', idColumn: 'id; drop' },
        /id column .* not a plain identifier/,
      ],
      ['dotted table', { table: 'crm.contacts' }, /not a plain identifier/],
      ['too long', { table: 'a'.repeat(64) }, /not a plain identifier/],
      ['missing table', { table: 'nope' }, /table public.nope does not exist/],
      ['missing column', { table: 'accounts', columns: ['nope'] }, /column "nope" does not exist/],
      ['missing id column', { table: 'notes' }, /column "id" does not exist in public.notes/],
      ['a view', { table: 'pg_stat_activity', schema: 'pg_catalog' }, /not a table|system table/],
      ['bad entity', { table: 'notes', idColumn: 'slug', entity: 'a b' }, /entity "a b"/],
    ];
    it.each(cases)('%s', async (_name, input, message) => {
      const snapshot = async () =>
        JSON.stringify([
          (
            await q(
              `SELECT tgname, tgrelid::regclass::text AS t FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
            )
          ).rows,
          (await q(`SELECT * FROM sluice_capture ORDER BY 1, 2`)).rows,
          (await q(`SELECT proname FROM pg_proc WHERE proname LIKE 'sluice_capture_%' ORDER BY 1`)).rows,
        ]);
      const before = await snapshot();
      const err = await addCapture(db.pool, input).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaptureInputError);
      expect((err as Error).message).toMatch(message);
      expect(await snapshot()).toBe(before);
      expect(await count(db.pool, `SELECT count(*) AS n FROM accounts`)).toBeGreaterThan(0);
    });
  });

  it('remove drops the triggers and the function; later changes add nothing', async () => {
    expect(await removeCapture(db.pool, 'notes')).toBe(true);
    expect(await removeCapture(db.pool, 'notes')).toBe(false);
    await expect(removeCapture(db.pool, 'notes; --')).rejects.toBeInstanceOf(CaptureInputError);
    await q(`INSERT INTO notes VALUES ('after-remove', 'x')`);
    expect((await events('notes')).map((e) => e.record_id)).toEqual(['hello-world']);
    expect((await listCaptures(db.pool)).map((c) => c.table).sort()).toEqual([
      'Devices',
      'accounts',
      'contacts',
    ]);
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND NOT tgisinternal`,
      ),
    ).toBe(0);
  });
});
