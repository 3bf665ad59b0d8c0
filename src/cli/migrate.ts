import type { Command } from 'commander';
import { output, withDataSource } from './util';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run from several processes at once)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const [{ migrate }, { upgradeCaptures }, { poolOf }] = await Promise.all([
        import('../db/migrate.js'),
        import('../capture/upgrade.js'),
        import('../db/pool.js'),
      ]);
      await withDataSource(async (ds) => {
        const applied = await migrate(ds);
        const captures = await upgradeCaptures(poolOf(ds));
        output(opts.json, { applied, captures }, () =>
          [
            applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date',
            ...(captures.upgraded.length
              ? [`capture triggers upgraded: ${captures.upgraded.join(', ')}`]
              : []),
            ...captures.failed.map(
              (f) => `capture trigger of ${f.table} not upgraded (${f.error}): run capture add again`,
            ),
          ].join('\n'),
        );
      });
    });
}
