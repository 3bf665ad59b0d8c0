import { MigrationExecutor, type DataSource } from 'typeorm';
import { sluiceSchema } from './schema-name';
import { prepareSchema } from './schema-setup';

/** Fixed key of the advisory lock that serialises migrations across processes. */
const MIGRATE_LOCK = 7_311_520_001;

/**
 * Runs pending migrations. The advisory lock must come first so a second process that starts at the
 * same moment waits, then finds nothing left to do instead of racing on CREATE TABLE. The schema set-up
 * and every pending migration share one transaction: an upgrade into Sluice's own schema either happens
 * whole or not at all.
 */
export async function migrate(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    try {
      await runner.startTransaction();
      try {
        await prepareSchema(runner, sluiceSchema());
        const executor = new MigrationExecutor(ds, runner);
        executor.transaction = 'all';
        const done = await executor.executePendingMigrations();
        await runner.commitTransaction();
        return done.map((m) => m.name);
      } catch (err) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
