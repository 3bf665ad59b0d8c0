import type { DataSource } from 'typeorm';
import { loadConfig } from '../config/load';
import { createDataSource } from '../db/data-source';
import { setBackfillTables } from '../planner/backfill/access';
import { databaseUrlOf } from '../service/infra';

/** Exits with a message: status 2 for anything the user got wrong, 1 for trouble on our side. */
export function fail(message: string, code = 2): never {
  console.error(`sluice: ${message}`);
  process.exit(code);
}

/** Connects to DATABASE_URL (or the embedded server `sluice start` runs) for one command. */
export async function withDb<T>(fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // Backfills and process registrations from the CLI obey the same backfill.tables as the service.
  setBackfillTables(config.backfillTables ?? []);
  const db = databaseUrlOf(config.env);
  const ds = createDataSource({ url: db.url, poolSize: 2, applicationName: 'sluice-cli' });
  try {
    await ds.initialize();
  } catch (err) {
    fail(
      `cannot connect to the database (${(err as Error).message}); set DATABASE_URL or start sluice first`,
      1,
    );
  }
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
