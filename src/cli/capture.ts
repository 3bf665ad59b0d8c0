import type { Command } from 'commander';
import type { PayloadMode } from '../capture/trigger-sql';
import { fail, output, withDataSource, withPool } from './util';

interface AddOpts {
  schema: string;
  entity?: string;
  idColumn: string;
  columns?: string;
  payload: string;
  json?: boolean;
}

/** Bad names, missing tables or columns: exit 2 with the message; anything else is ours (exit 1). */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as Error).name === 'CaptureInputError') fail((err as Error).message);
    throw err;
  }
}

const captureModules = () =>
  Promise.all([import('../capture/triggers.js'), import('../db/migrate.js'), import('../db/pool.js')]);

export function registerCapture(program: Command): void {
  const capture = program
    .command('capture')
    .description("capture a table's changes with Postgres triggers (add | remove | list)");

  capture
    .command('add <table>')
    .description(
      'install (idempotently) statement-level triggers that enqueue every INSERT, UPDATE and DELETE of <table>',
    )
    .option('--schema <schema>', 'schema of the table', 'public')
    .option('--entity <name>', 'entity name of the changes (default: the table name)')
    .option('--id-column <column>', 'column holding the record id (text, uuid, bigint...)', 'id')
    .option(
      '--columns <list>',
      'comma list: payload columns, and the only ones whose UPDATE counts as a change',
    )
    .option(
      '--payload <mode>',
      'latest: the row as it is when the change fans out, a few ms after commit (cheapest for the writer); ' +
        'exact: the row image taken in the trigger (deletes always carry the deleted row)',
      'latest',
    )
    .option('--json', 'machine-readable output')
    .action(async (table: string, opts: AddOpts) => {
      const columns = opts.columns
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      if (opts.columns !== undefined && !columns?.length) fail('--columns: give at least one column name');
      const [{ addCapture }, { migrate }, { poolOf }] = await captureModules();
      await withDataSource(async (ds) => {
        await migrate(ds);
        const added = await guarded(() =>
          addCapture(poolOf(ds), {
            table,
            schema: opts.schema,
            entity: opts.entity,
            idColumn: opts.idColumn,
            columns,
            payload: opts.payload as PayloadMode,
          }),
        );
        output(
          opts.json,
          added,
          () =>
            `capturing ${added.schema}.${added.table} as entity "${added.entity}" (id ${added.idColumn}, ` +
            `${added.columns ? `columns ${added.columns.join(', ')}` : 'all columns'}, payload ${added.payload})`,
        );
      });
    });

  capture
    .command('remove <table>')
    .description('drop the capture triggers of <table> (nothing queued is removed)')
    .option('--schema <schema>', 'schema of the table', 'public')
    .option('--json', 'machine-readable output')
    .action(async (table: string, opts: { schema: string; json?: boolean }) => {
      const { removeCapture } = await import('../capture/triggers.js');
      await withPool(async (pool) => {
        const removed = await guarded(() => removeCapture(pool, table, opts.schema));
        output(opts.json, { schema: opts.schema, table, removed }, () =>
          removed
            ? `no longer capturing ${opts.schema}.${table}`
            : `${opts.schema}.${table} was not captured`,
        );
      });
    });

  capture
    .command('list')
    .description('tables whose changes are captured')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const [{ listCaptures }, { migrate }, { poolOf }] = await captureModules();
      await withDataSource(async (ds) => {
        await migrate(ds);
        const list = await listCaptures(poolOf(ds));
        output(opts.json, list, () =>
          list.length === 0
            ? 'no captured tables'
            : list
                .map(
                  (c) =>
                    `${c.schema}.${c.table}  entity=${c.entity}  id=${c.idColumn}  columns=${c.columns?.join(',') ?? '*'}` +
                    (c.installed ? '' : '  (TRIGGERS MISSING: run capture add again)'),
                )
                .join('\n'),
        );
      });
    });
}
