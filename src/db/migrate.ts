import type { DataSource } from 'typeorm';

/** Fixed key of the advisory lock that serialises migrations across processes. */
const MIGRATE_LOCK = 7_311_520_001;

/**
 * Runs pending migrations. The advisory lock must come first so a second process that starts at the
 * same moment waits, then finds nothing left to do instead of racing on CREATE TABLE.
 */
export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      const done = await ds.runMigrations({ transaction: 'all' });
      return done.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
