import type { Command } from 'commander';
import { upgradeCaptures } from '../capture/upgrade';
import { migrate } from '../db/migrate';
import { poolOf } from '../db/pool';
import { output, withDb } from './util';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run from several processes at once)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (ds) => {
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
