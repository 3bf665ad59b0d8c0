import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOutAll } from '../../src/db/capture/fan-out';
import { count, createTestDb, type TestDb } from '../helpers/db';

const run = promisify(execFile);

describe('sluice capture add|list|remove', () => {
  let db: TestDb;
  const sluice = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [resolve('bin/sluice.js'), 'capture', ...args], {
        env: { ...process.env, DATABASE_URL: db.url, SLUICE_CONFIG: '' },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    db = await createTestDb();
    await db.pool.query(`CREATE TABLE orders (order_no text PRIMARY KEY, status text, total numeric)`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('refuses a hostile name with exit 2 and touches nothing', async () => {
    const res = await sluice('add', 'orders; DROP TABLE orders', '--id-column', 'order_no');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/table "orders; DROP TABLE orders" is not a plain identifier/);
    expect(await count(db.pool, `SELECT count(*) AS n FROM pg_trigger WHERE NOT tgisinternal`)).toBe(0);
    const missing = await sluice('add', 'orders', '--columns', 'status,nope', '--id-column', 'order_no');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/column "nope" does not exist in public.orders/);
    const mode = await sluice('add', 'orders', '--id-column', 'order_no', '--payload', 'newest');
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/payload "newest": use latest or exact/);
    expect(await count(db.pool, `SELECT count(*) AS n FROM pg_trigger WHERE NOT tgisinternal`)).toBe(0);
  });

  it('adds, lists and removes; the triggers capture in between', async () => {
    const added = await sluice(
      'add',
      'orders',
      '--id-column',
      'order_no',
      '--columns',
      'status',
      '--entity',
      'order',
      '--payload',
      'exact',
      '--json',
    );
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      table: 'orders',
      entity: 'order',
      idColumn: 'order_no',
      columns: ['status'],
      payload: 'exact',
      installed: true,
    });
    await db.pool.query(`INSERT INTO orders VALUES ('A-1', 'new', 10)`);
    await db.pool.query(`UPDATE orders SET total = 11`); // not a watched column
    await db.pool.query(`UPDATE orders SET status = 'paid'`);
    await fanOutAll(db.pool);
    // exact: each event carries the row image its statement saw.
    const { rows } = await db.pool.query(`SELECT record_id, op, payload FROM event_log ORDER BY id`);
    expect(rows).toEqual([
      { record_id: 'A-1', op: 'insert', payload: { order_no: 'A-1', status: 'new' } },
      { record_id: 'A-1', op: 'update', payload: { order_no: 'A-1', status: 'paid' } },
    ]);

    const list = await sluice('list', '--json');
    expect(JSON.parse(list.stdout)).toMatchObject([{ schema: 'public', table: 'orders', installed: true }]);
    const removed = await sluice('remove', 'orders', '--json');
    expect(JSON.parse(removed.stdout)).toEqual({ schema: 'public', table: 'orders', removed: true });
    expect((await sluice('list')).stdout.trim()).toBe('no captured tables');
  });
});
