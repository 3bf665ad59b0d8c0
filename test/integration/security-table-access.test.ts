import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCapture } from '../../src/capture/triggers';
import { setBackfillTables } from '../../src/planner/backfill/access';
import { runBackfill } from '../../src/planner/backfill/run-backfill';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

const ALLOWED = ['public.accounts', 'public.slow'];
// Every table issue 19 read or looped on, and the rest of the system and own-table family.
const PROTECTED = [
  'pg_catalog.pg_authid',
  'information_schema.sql_features',
  'pg_toast.pg_toast_1260',
  'pg_temp_1.scratch',
  'pg_toast_temp_1.pg_toast_1',
  'event_log',
  'public.event_queue',
  'sluice_process',
  'public.sluice_capture_batch',
  'sluice.event_log',
  'sluice.event_queue',
  'sluice.sluice_capture_batch',
  'sluice.anything',
];

/** Issue 19, findings 2, 3 and 6: an API key read pg_authid, a backfill of event_log never ended. */
describe('backfills and captures read only what they may', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const rowsLogged = () => count(db.pool, 'SELECT count(*) AS n FROM event_log');
  const runOf = async (process: string) =>
    (
      await db.pool.query<{ status: string; error: string | null }>(
        'SELECT status, error FROM sluice_run WHERE process = $1 ORDER BY seq DESC LIMIT 1',
        [process],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, name text);
      INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 20) g;
      CREATE SCHEMA crm;
      CREATE TABLE crm.secrets (id int PRIMARY KEY, token text);
      INSERT INTO crm.secrets VALUES (1, 'do-not-send');
      CREATE TABLE slow (id int PRIMARY KEY);
      INSERT INTO slow SELECT g FROM generate_series(1, 4000) g;
      -- Each queued row of entity slow costs 4 ms, so a backfill of it runs for many seconds.
      CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.entity = 'slow' THEN PERFORM pg_sleep(0.004); END IF; RETURN NEW; END $$;
      CREATE TRIGGER slow_row BEFORE INSERT ON event_queue FOR EACH ROW EXECUTE FUNCTION slow_row();
    `);
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        {
          name: 'out',
          match: { entity: 'nothing' },
          connector: 'webhook',
          options: { url: `${sink.url}/out` },
        },
      ],
      env: { SLUICE_PLANNER_TICK_MS: '200' },
      backfill: { tables: ALLOWED },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('refuses system, Sluice-owned and unlisted tables at registration with 403 table_not_allowed; nothing is read', async () => {
    const before = await rowsLogged();
    for (const table of [...PROTECTED, 'pg_authid', 'crm.secrets']) {
      const res = await api(svc, 'POST', '/v1/processes', {
        name: 'steal',
        handler: 'backfill',
        kind: 'single',
        params: { table, route: 'out' },
      });
      expect(res.status, table).toBe(403);
      expect(res.body.error.code, table).toBe('table_not_allowed');
      expect(res.body.error.message, table).toMatch(
        /system table|Sluice's own tables|not in the config's backfill\.tables/,
      );
    }
    expect(await count(db.pool, 'SELECT count(*) AS n FROM sluice_process')).toBe(0);
    expect(await rowsLogged()).toBe(before);
    expect(sink.requests).toEqual([]);
  });

  it('checks again when the run starts: a table dropped from backfill.tables since registration is not read', async () => {
    const res = await api(svc, 'POST', '/v1/processes', {
      name: 'was-allowed',
      handler: 'backfill',
      kind: 'recurrent',
      schedule: '0 3 1 1 *',
      params: { table: 'accounts', route: 'out' },
    });
    expect(res.status).toBe(201);
    setBackfillTables(['public.slow']);
    try {
      const before = await rowsLogged();
      expect((await api(svc, 'POST', '/v1/processes/was-allowed/run')).status).toBeLessThan(300);
      const run = await waitFor(async () => {
        const r = await runOf('was-allowed');
        return r?.status === 'failed' ? r : null;
      }, 'the run to fail');
      expect(run.error).toMatch(/public\.accounts is not in the config's backfill\.tables/);
      expect(await rowsLogged()).toBe(before);
    } finally {
      setBackfillTables(ALLOWED);
      await api(svc, 'DELETE', '/v1/processes/was-allowed');
    }
  });

  it('the CLI reads any user table when backfill.tables is empty, never a protected one, only listed ones otherwise', async () => {
    const cli = { route: 'out', caller: 'cli' as const };
    setBackfillTables([]);
    try {
      for (const table of PROTECTED)
        await expect(runBackfill(db.pool, { ...cli, table }), table).rejects.toMatchObject({
          code: 'table_not_allowed',
        });
      expect((await runBackfill(db.pool, { ...cli, table: 'crm.secrets' })).status).toBe('done');
      setBackfillTables(['public.*']);
      await expect(runBackfill(db.pool, { ...cli, table: 'crm.secrets' })).rejects.toMatchObject({
        code: 'table_not_allowed',
      });
      expect((await runBackfill(db.pool, { ...cli, table: 'accounts', restart: true })).status).toBe('done');
    } finally {
      setBackfillTables(ALLOWED);
    }
    const bin = spawnSync(
      process.execPath,
      [resolve('bin/sluice.js'), 'backfill', 'pg_catalog.pg_authid', '--route', 'out'],
      {
        env: { ...process.env, DATABASE_URL: db.url, SLUICE_CONFIG: '' },
        encoding: 'utf8',
      },
    );
    expect(bin.status).toBe(2);
    expect(bin.stderr).toContain('pg_catalog.pg_authid is a system table');
  });

  it('capture add refuses Sluice-owned and system tables and installs nothing', async () => {
    for (const [schema, table] of [
      ['sluice', 'event_log'],
      ['sluice', 'event_queue'],
      ['sluice', 'sluice_capture_batch'],
      ['sluice', 'sluice_route'],
      ['sluice', 'sluice_migrations'],
      ['pg_catalog', 'pg_authid'],
    ])
      await expect(addCapture(db.pool, { schema, table, idColumn: 'id' }), table).rejects.toThrow(
        /Sluice's own tables|system table/,
      );
    expect(
      await count(
        db.pool,
        `SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE NOT t.tgisinternal AND t.tgname <> 'slow_row' AND c.relname IN ('event_log', 'event_queue', 'sluice_capture_batch', 'sluice_route')`,
      ),
    ).toBe(0);
    expect(await count(db.pool, 'SELECT count(*) AS n FROM sluice_capture')).toBe(0);
  });

  for (const how of ['DELETE', 'PATCH enabled=false'] as const) {
    it(`${how} of a process stops its running backfill within seconds; no rows are added after the run ends`, async () => {
      const name = how === 'DELETE' ? 'long-delete' : 'long-disable';
      await db.pool.query(`DELETE FROM sluice_backfill`);
      const res = await api(svc, 'POST', '/v1/processes', {
        name,
        handler: 'backfill',
        kind: 'single',
        params: { table: 'slow', route: 'out', page: 50, threads: 2 },
      });
      expect(res.status).toBe(201);
      const base = await rowsLogged();
      await waitFor(async () => (await rowsLogged()) >= base + 200, 'the backfill to get going');
      const asked = Date.now();
      const answer =
        how === 'DELETE'
          ? await api(svc, 'DELETE', `/v1/processes/${name}`)
          : await api(svc, 'PATCH', `/v1/processes/${name}`, { enabled: false });
      expect(answer.status).toBe(how === 'DELETE' ? 204 : 200);
      const run = await waitFor(
        async () => {
          const r = await runOf(name);
          return r.status !== 'running' ? r : null;
        },
        'the run to end',
        { timeoutMs: 10_000 },
      );
      expect(Date.now() - asked).toBeLessThan(5_000);
      expect(run.error).toMatch(how === 'DELETE' ? /process removed/ : /process disabled/);
      const atEnd = await rowsLogged();
      expect(atEnd).toBeLessThan(base + 4000);
      await new Promise((r) => setTimeout(r, 1500)); // a window for stray pages to show up
      expect(await rowsLogged()).toBe(atEnd);
      if (how !== 'DELETE') await api(svc, 'DELETE', `/v1/processes/${name}`);
    });
  }
});
