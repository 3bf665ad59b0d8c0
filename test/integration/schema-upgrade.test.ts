import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upgradeCaptures } from '../../src/capture/upgrade';
import { migrate } from '../../src/db/migrate';
import { createTestDb, type TestDb } from '../helpers/db';
import { startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/** Made by the release before Sluice had a schema of its own (see make-pre-schema-dump.sh beside it). */
const DUMP = readFileSync(join(__dirname, '../fixtures/pre-schema-install.sql'), 'utf8');
const WRITER = `sluice_writer_${process.pid}`;
const TABLES = [
  'event_log',
  'event_queue',
  'sluice_route',
  'sluice_leader',
  'sluice_capture',
  'sluice_capture_batch',
  'sluice_webhook_delivery',
  'sluice_process',
  'sluice_run',
  'sluice_planner_log',
  'sluice_backfill',
  'sluice_planner_settings',
  'sluice_migrations',
];

/** A session as the user's application has it: the database's default search_path, no Sluice options. */
async function userSession<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Every row of every Sluice table in `schema`, as text, per table. */
/**
 * Every row of every Sluice table in `schema`, as text, over the columns the old install had (`columns` of
 * the first read): migrations of this release may add columns, never change what was there.
 */
const oldColumns: Record<string, string[]> = {};
async function contents(c: Client, schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    if (!oldColumns[t]) {
      const { rows } = await c.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = format('%I.%I', $1::text, $2::text)::regclass
            AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [schema, t],
      );
      oldColumns[t] = rows.map((r) => `"${r.name}"`);
    }
    const { rows } = await c.query<{ r: string }>(
      `SELECT ROW(${oldColumns[t].join(', ')})::text AS r FROM "${schema}".${t} t ORDER BY 1`,
    );
    out[t] = rows.map((r) => r.r);
  }
  return out;
}

describe('upgrade of an install made before Sluice had its own schema', () => {
  let db: TestDb;
  let before: Record<string, string[]>;

  beforeAll(async () => {
    db = await createTestDb({ migrate: false });
    before = await userSession(db.url, async (c) => {
      await c.query(DUMP);
      await c.query('RESET search_path');
      return contents(c, 'public');
    });
    // The application writes as a role of its own, granted what the README asked for before the upgrade.
    await userSession(db.url, (c) =>
      c.query(`CREATE ROLE ${WRITER}; GRANT UPDATE, SELECT ON public.accounts TO ${WRITER};
               GRANT INSERT ON public.sluice_capture_batch TO ${WRITER};
               GRANT USAGE ON SEQUENCE public.sluice_capture_batch_id_seq TO ${WRITER};`),
    );
    await migrate(db.ds);
    await upgradeCaptures(db.pool);
  });

  afterAll(async () => {
    await db?.drop();
    await userSession(db.url.replace(/\/[^/]+$/, '/postgres'), (c) =>
      c.query(`DROP ROLE IF EXISTS ${WRITER}`),
    );
  });

  it('moves every row of every Sluice table into the sluice schema, unchanged', async () => {
    expect(before.event_queue.length).toBe(45);
    expect(before.event_queue.filter((r) => r.includes(',dead,')).length).toBe(2);
    expect(before.sluice_capture_batch.length).toBe(5);
    const after = await userSession(db.url, (c) => contents(c, 'sluice'));
    const migrations = after.sluice_migrations;
    // This release's migrations are added (0014 among them); the old install's rows are all there, unchanged.
    const added = migrations.filter((m) => !before.sluice_migrations.includes(m));
    expect(added.join(' ')).toMatch(/OwnSchema1000000000014/);
    expect({ ...after, sluice_migrations: migrations.filter((m) => !added.includes(m)) }).toEqual(before);
  });

  it("leaves only the user's own objects in public: no Sluice table, sequence, function or type", async () => {
    const left = await userSession(db.url, async (c) => ({
      relations: (
        await c.query(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1`)
      ).rows.map((r) => r.relname),
      functions: (await c.query(`SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace`))
        .rows,
      types: (
        await c.query(
          `SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typname NOT LIKE '%accounts'`,
        )
      ).rows,
    }));
    expect(left).toEqual({ relations: ['accounts', 'accounts_pkey'], functions: [], types: [] });
  });

  it("points the installed capture triggers at the new schema: an application role's writes journal there", async () => {
    await userSession(db.url, async (c) => {
      await c.query(`SET ROLE ${WRITER}`);
      await c.query(`UPDATE accounts SET tier = 'platinum' WHERE id = 7`);
      await c.query('RESET ROLE');
      await c.query(`INSERT INTO crm.contacts VALUES ('c@example.com', 'Cy')`);
      const { rows } = await c.query(
        `SELECT table_name, op, ids FROM (SELECT * FROM sluice.sluice_capture_batch ORDER BY lsn DESC LIMIT 2) j ORDER BY lsn`,
      );
      expect(rows).toEqual([
        { table_name: 'accounts', op: 'update', ids: ['7'] },
        { table_name: 'contacts', op: 'insert', ids: ['c@example.com'] },
      ]);
      const bodies = await c.query(
        `SELECT count(*)::int AS n FROM pg_proc WHERE prosrc LIKE '%"public".%sluice%' OR prosrc LIKE '%public.sluice%'`,
      );
      expect(bodies.rows[0].n).toBe(0);
    });
  });

  describe('the upgraded service', () => {
    let sink: Sink;
    let svc: Awaited<ReturnType<typeof startTestService>>;

    beforeAll(async () => {
      sink = await startSink();
      svc = await startTestService({
        databaseUrl: db.url,
        kafka: false,
        routes: [
          { name: 'crm', match: { entity: 'accounts' }, connector: 'webhook', options: { url: sink.url } },
        ],
      });
    });

    afterAll(async () => {
      await svc?.stop();
      await sink?.close();
    });

    it("delivers the old install's pending rows and its journaled changes, and a new UPDATE's", async () => {
      await userSession(db.url, (c) => c.query(`UPDATE accounts SET name = 'renamed' WHERE id = 20`));
      const latest = new Map<string, { tier: string; name: string }>();
      await waitFor(() => {
        for (const r of sink.requests) {
          const body = JSON.parse(r.body);
          latest.set(body.recordId, body.payload);
        }
        return latest.size === 20 && latest.get('20')?.name === 'renamed';
      }, 'every account delivered');
      expect([...latest.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(
        Array.from({ length: 20 }, (_, i) => String(i + 1)),
      );
      expect(latest.get('1')).toMatchObject({ tier: 'silver' });
      expect(latest.get('7')).toMatchObject({ tier: 'platinum' });
      const dead = await db.pool.query(`SELECT count(*)::int AS n FROM event_queue WHERE state = 'dead'`);
      expect(dead.rows[0].n).toBe(2);
    });
  });
});
