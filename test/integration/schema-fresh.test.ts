import { migrations as migrationList } from '../../src/db/migrations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture } from '../../src/capture/triggers';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/migrate';
import { poolOf } from '../../src/db/pool';
import { protectedTableReason } from '../../src/db/protected-tables';
import { count, createTestDb, type TestDb } from '../helpers/db';

const SLUICE_TABLES = [
  'event_log',
  'event_queue',
  'sluice_attempt',
  'sluice_backfill',
  'sluice_capture',
  'sluice_capture_batch',
  'sluice_instance',
  'sluice_lane',
  'sluice_leader',
  'sluice_migrations',
  'sluice_planner_log',
  'sluice_planner_settings',
  'sluice_process',
  'sluice_route',
  'sluice_route_config',
  'sluice_route_health',
  'sluice_route_version',
  'sluice_run',
  'sluice_webhook_delivery',
];

async function objectsIn(db: TestDb, schema: string) {
  const q = async (sql: string) =>
    (await db.pool.query<{ name: string }>(sql, [schema])).rows.map((r) => r.name);
  return {
    tables: await q(
      `SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`,
    ),
    sequences: await q(
      `SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'S' ORDER BY 1`,
    ),
    functions: await q(
      `SELECT proname AS name FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`,
    ),
  };
}

describe('a fresh install keeps to its own schema', () => {
  let db: TestDb;

  beforeAll(async () => {
    db = await createTestDb();
    await db.pool.query(`CREATE TABLE public.accounts (id int PRIMARY KEY, plan text)`);
    await addCapture(db.pool, { table: 'accounts' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("puts every table, sequence and function (captures' too) in sluice and none in public", async () => {
    const own = await objectsIn(db, 'sluice');
    expect(own.tables).toEqual(SLUICE_TABLES);
    expect(own.sequences.length).toBeGreaterThan(0);
    expect(own.functions).toEqual(
      expect.arrayContaining(['sluice_enqueue', 'sluice_enqueue_route', 'sluice_fan_out_captures']),
    );
    expect(own.functions.filter((f) => /^sluice_(capture|rows)_[0-9a-f]{16}$/.test(f))).toHaveLength(2);
    expect(await objectsIn(db, 'public')).toEqual({ tables: ['accounts'], sequences: [], functions: [] });
  });

  it('pins search_path to sluice on every Sluice function that sets one', async () => {
    const { rows } = await db.pool.query<{ proname: string; path: string }>(
      `SELECT proname, c AS path FROM pg_proc, unnest(proconfig) AS c
        WHERE pronamespace = 'sluice'::regnamespace AND c LIKE 'search_path=%' ORDER BY 1`,
    );
    expect(rows.map((r) => r.proname)).toEqual([
      'sluice_capture_enqueue',
      'sluice_enqueue',
      'sluice_enqueue_few',
      'sluice_enqueue_many',
      'sluice_enqueue_route',
      'sluice_fan_out_captures',
      'sluice_settle',
    ]);
    expect(rows.every((r) => r.path === 'search_path=sluice')).toBe(true);
  });

  it('a second migrate applies nothing', async () => {
    expect(await migrate(db.ds)).toEqual([]);
  });

  describe('a second install under another SLUICE_SCHEMA in the same database', () => {
    const saved = process.env.SLUICE_SCHEMA;
    let other: ReturnType<typeof createDataSource>;

    beforeAll(async () => {
      process.env.SLUICE_SCHEMA = 'sluice_b';
      other = createDataSource({ url: db.url, poolSize: 2 });
      await other.initialize();
    });

    afterAll(async () => {
      if (other?.isInitialized) await other.destroy();
      if (saved === undefined) delete process.env.SLUICE_SCHEMA;
      else process.env.SLUICE_SCHEMA = saved;
    });

    it('migrates into its own schema and leaves the first install where it is', async () => {
      const applied = await migrate(other);
      // Every migration, in order (0014 moves an older install's schema; the later ones follow it).
      expect(applied).toEqual(migrationList.map((M) => new M().name));
      expect((await objectsIn(db, 'sluice_b')).tables).toEqual(SLUICE_TABLES);
      expect((await objectsIn(db, 'sluice')).tables).toEqual(SLUICE_TABLES);
      expect(await count(db.pool, `SELECT count(*) AS n FROM sluice.sluice_migrations`)).toBe(
        migrationList.length,
      );
    });

    it("queues separately: a change enqueued through one install is in its schema's queue only", async () => {
      await poolOf(other).query(`INSERT INTO sluice_route (name, entity) VALUES ('r', '*')`);
      await poolOf(other).query(`SELECT sluice_enqueue('accounts', 'update', 'api', ARRAY['1'], NULL, NULL)`);
      expect(await count(db.pool, `SELECT count(*) AS n FROM sluice_b.event_queue`)).toBe(1);
      expect(await count(db.pool, `SELECT count(*) AS n FROM sluice.event_queue`)).toBe(0);
    });

    it("refuses the other install's schema whole and its tables by name", () => {
      expect(protectedTableReason('sluice_b', 'anything')).toMatch(/Sluice's own tables/);
      process.env.SLUICE_SCHEMA = saved ?? '';
      expect(protectedTableReason('sluice_b', 'event_queue')).toMatch(/Sluice's own tables/);
      process.env.SLUICE_SCHEMA = 'sluice_b';
    });
  });
});
