import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteSchema } from '../../src/config/route-schema';
import { syncRoutes } from '../../src/db/queue/sync-routes';
import { runBackfill } from '../../src/planner/backfill/run-backfill';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/wait';

const route = (name: string, entity: string) =>
  RouteSchema.parse({
    name,
    match: { entity },
    connector: 'webhook',
    options: { url: 'http://127.0.0.1:9/x' },
  });

/** `sluice <args>` in a child process against the test database. */
function cli(url: string, args: string[]) {
  const child = spawn(process.execPath, [resolve('bin/sluice.js'), ...args], {
    env: { ...process.env, DATABASE_URL: url, SLUICE_LOCAL_KAFKA: 'off', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, sig) => res(code ?? sig ?? -1)),
  );
  return { child, exited, output: () => out };
}

describe('backfill: keyset pages into one route, checkpointed', () => {
  let db: TestDb;

  beforeAll(async () => {
    db = await createTestDb();
    // Two routes match `items`; a backfill must reach only the one it names.
    await syncRoutes(db.pool, [
      route('enrich', 'items'),
      route('other', 'items'),
      route('slowr', 'slow_items'),
    ]);
    await db.pool.query(`
      CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
      INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2345) g;
      CREATE TABLE "Odd Table" (id integer PRIMARY KEY);
      CREATE TABLE nokey (a int, b int);
      CREATE TABLE slow_items (code text PRIMARY KEY);
      INSERT INTO slow_items SELECT 'k' || lpad(g::text, 5, '0') FROM generate_series(1, 600) g;
      -- Each row of slow_items costs 20 ms to enqueue, so a page is slow and a backfill takes a while.
      CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.entity = 'slow_items' THEN PERFORM pg_sleep(0.02); END IF; RETURN NEW; END $$;
      CREATE TRIGGER slow_row BEFORE INSERT ON event_queue FOR EACH ROW EXECUTE FUNCTION slow_row();
    `);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('sends every row once to the named route only, with the row as payload, and finishes its checkpoint', async () => {
    const progress: number[] = [];
    const r = await runBackfill(db.pool, {
      caller: 'cli',
      table: 'items',
      route: 'enrich',
      page: 100,
      threads: 4,
      onProgress: (p) => progress.push(p.rowsDone),
    });
    expect(r).toMatchObject({
      status: 'done',
      rowsDone: 2345,
      totalRows: 2345,
      pagesStarted: 24,
      pagesFinished: 24,
      cursor: '2345',
    });
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'enrich'`)).toBe(2345);
    expect(
      await count(db.pool, `SELECT count(DISTINCT record_id) AS n FROM event_queue WHERE route = 'enrich'`),
    ).toBe(2345);
    expect(await count(db.pool, `SELECT count(*) AS n FROM event_queue WHERE route = 'other'`)).toBe(0);
    expect(
      await count(db.pool, `SELECT count(*) AS n FROM event_log WHERE source = 'backfill:public.items'`),
    ).toBe(2345);
    const row = await db.pool.query(
      `SELECT payload, op, entity, ticket FROM event_queue WHERE record_id = '42'`,
    );
    expect(row.rows[0]).toMatchObject({
      payload: { id: 42, name: 'item 42' },
      op: 'upsert',
      entity: 'items',
      ticket: r.id,
    });
    expect(progress.at(-1)).toBe(2345);
    // Progress never goes backwards.
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1])).toBe(true);

    // A fresh run after a finished one starts from the beginning.
    const again = await runBackfill(db.pool, { caller: 'cli', table: 'items', route: 'enrich', page: 1000 });
    expect(again).toMatchObject({ status: 'done', resumed: false, rowsThisRun: 2345 });
  });

  it('refuses bad tables, keys and routes with a clear error', async () => {
    await expect(
      runBackfill(db.pool, { caller: 'cli', table: 'items; drop table items', route: 'enrich' }),
    ).rejects.toThrow(/plain identifier/);
    await expect(
      runBackfill(db.pool, { caller: 'cli', table: 'Odd Table', route: 'enrich' }),
    ).rejects.toThrow(/plain identifier/);
    await expect(runBackfill(db.pool, { caller: 'cli', table: 'missing', route: 'enrich' })).rejects.toThrow(
      'table public.missing does not exist',
    );
    await expect(runBackfill(db.pool, { caller: 'cli', table: 'nokey', route: 'enrich' })).rejects.toThrow(
      /no single-column primary key/,
    );
    await expect(
      runBackfill(db.pool, { caller: 'cli', table: 'items', key: 'name', route: 'enrich' }),
    ).rejects.toThrow(/not a single-column primary key or unique/);
    await expect(
      runBackfill(db.pool, { caller: 'cli', table: 'items', key: 'nope', route: 'enrich' }),
    ).rejects.toThrow(/does not exist/);
    await expect(runBackfill(db.pool, { caller: 'cli', table: 'items', route: 'ghost' })).rejects.toThrow(
      'route "ghost" does not exist',
    );
    await expect(
      runBackfill(db.pool, { caller: 'cli', table: 'items', route: 'enrich', page: 0 }),
    ).rejects.toThrow(/page/);
    const bad = cli(db.url, ['backfill', 'missing', '--route', 'enrich']);
    const badOpt = cli(db.url, ['backfill', 'items', '--route', 'enrich', '--threads', '0']);
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/table public.missing does not exist/);
    expect(await badOpt.exited).toBe(2);
    expect(badOpt.output()).toMatch(/threads/);
  });

  it('reports slow pages and stops pages past stopAfter; the backfill fails and resumes before them', async () => {
    const warnings: string[] = [];
    const r = await runBackfill(db.pool, {
      caller: 'cli',
      table: 'slow_items',
      route: 'slowr',
      page: 20, // 20 rows x 20 ms: about 400 ms a page
      threads: 2,
      warnAfterMs: 100,
      stopAfterMs: 250,
      log: { warn: (_o, m) => warnings.push(m), info: () => undefined },
    });
    expect(r.status).toBe('failed');
    expect(r.pagesStopped).toBeGreaterThan(0);
    expect(r.pagesSlow).toBeGreaterThan(0);
    expect(r.error).toMatch(/stopped after 250 ms/);
    expect(warnings).toContain('backfill page is slow');
    expect(warnings).toContain('backfill page stopped');
    await db.pool.query(`DELETE FROM event_queue WHERE route = 'slowr'`);
  });

  it('a killed backfill resumes where it stopped; a second one at the same time is refused', async () => {
    const first = cli(db.url, [
      'backfill',
      'slow_items',
      '--route',
      'slowr',
      '--page',
      '20',
      '--threads',
      '2',
      '--restart',
      '--json',
    ]);
    const bf = await waitFor(
      async () =>
        (
          await db.pool.query(
            `SELECT id, cursor, rows_done FROM sluice_backfill WHERE table_name = 'public.slow_items' AND status = 'running' AND rows_done >= 120`,
          )
        ).rows[0],
      'the backfill to get going',
      { timeoutMs: 60_000 },
    );
    const concurrent = cli(db.url, ['backfill', 'slow_items', '--route', 'slowr']);
    expect(await concurrent.exited).toBe(2);
    expect(concurrent.output()).toMatch(/already running/);

    first.child.kill('SIGKILL');
    await first.exited;
    const [killed] = (
      await db.pool.query(`SELECT cursor, rows_done, status FROM sluice_backfill WHERE id = $1`, [bf.id])
    ).rows;
    expect(killed.status).toBe('running'); // nobody closed it: it was killed
    expect(killed.cursor).not.toBeNull();
    // Postgres ends the killed process's sessions (and its backfill lock with them) a moment after the
    // kill, not at once: resuming before that is refused as "already running", as it should be.
    await waitFor(
      async () =>
        (
          await db.pool.query(
            `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND classid::bigint = (hashtext('sluice_backfill')::bigint & 4294967295)`,
          )
        ).rowCount === 0,
      "the killed backfill's lock to go with its session",
    );

    const r = await runBackfill(db.pool, {
      caller: 'cli',
      table: 'slow_items',
      route: 'slowr',
      page: 50,
      threads: 4,
      stopAfterMs: 60_000,
    });
    expect(r).toMatchObject({ status: 'done', resumed: true, resumedFrom: killed.cursor, id: bf.id });
    expect(r.rowsThisRun).toBe(600 - Number(killed.rows_done));
    expect(r.rowsThisRun).toBeLessThan(600);
    // Every row reached the route at least once.
    expect(
      await count(db.pool, `SELECT count(DISTINCT record_id) AS n FROM event_queue WHERE route = 'slowr'`),
    ).toBe(600);
  });
});
