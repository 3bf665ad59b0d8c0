import type { Command } from 'commander';
import { migrate } from '../db/migrate';
import { output, withDb } from './util';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run from several processes at once)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (ds) => {
        const applied = await migrate(ds);
        output(opts.json, { applied }, () =>
          applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date',
        );
      });
    });
}
