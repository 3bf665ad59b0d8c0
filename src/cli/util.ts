import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { databaseUrlFromEnvironment } from '../config/database-url';
import { sessionOptions, sluiceSchema } from '../db/schema-name';

/** Exits with a message: status 2 for anything the user got wrong, 1 for trouble on our side. */
export function fail(message: string, code = 2): never {
  console.error(`sluice: ${message}`);
  process.exit(code);
}

const unreachable = (err: unknown): never =>
  fail(
    `cannot connect to the database (${(err as Error).message}); set DATABASE_URL or start sluice first`,
    1,
  );

/** The database URL, with SLUICE_SCHEMA checked too (every command's session uses it). */
function databaseUrl(): string {
  try {
    sluiceSchema();
    return databaseUrlFromEnvironment();
  } catch (err) {
    return fail(`invalid environment: ${(err as Error).message}`);
  }
}

/**
 * A pg pool on DATABASE_URL (or the embedded server `sluice start` runs) for one command. Commands that
 * only query use this: no ORM is loaded, so they answer quickly.
 */
export async function withPool<T>(fn: (pool: Pool) => Promise<T>): Promise<T> {
  const url = databaseUrl();
  const { Pool } = await import('pg');
  const pool = new Pool({
    connectionString: url,
    options: sessionOptions(),
    max: 2,
    application_name: 'sluice-cli',
    connectionTimeoutMillis: 5_000,
  });
  try {
    await pool.query('SELECT 1').catch(unreachable);
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/** Backfills and process registrations from the CLI obey the same backfill.tables as the service. */
export async function applyBackfillTables(): Promise<void> {
  const [{ loadConfig }, { setBackfillTables }] = await Promise.all([
    import('../config/load.js'),
    import('../planner/backfill/access.js'),
  ]);
  setBackfillTables(loadConfig().backfillTables ?? []);
}

/** A TypeORM data source, for the commands that migrate. */
export async function withDataSource<T>(fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const url = databaseUrl();
  const { createDataSource } = await import('../db/data-source.js');
  const ds = createDataSource({ url, poolSize: 2, applicationName: 'sluice-cli' });
  await ds.initialize().catch(unreachable);
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/** Prints `data` as JSON with --json, else the human lines. */
export function output(json: boolean | undefined, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data) : human());
}
