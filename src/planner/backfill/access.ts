import picomatch from 'picomatch';
import { protectedTableReason } from '../../db/protected-tables';
import { SluiceError } from '../../lib/errors';

/** Who asks: the `sluice backfill` CLI (holds the database URL) or a planner process (API keys can register those). */
export type BackfillCaller = 'cli' | 'planner';

let allowed: string[] = [];
let matches: (schemaTable: string) => boolean = () => false;

/**
 * Sets the config file's `backfill.tables`: globs over `schema.table` (`public.*`, `crm.accounts`). Empty
 * (the default): the CLI may read any user table, the planner (and so the API) none.
 */
export function setBackfillTables(globs: string[]): void {
  allowed = [...globs];
  // The dot between schema and table becomes a path separator, so `*` never crosses it.
  matches = globs.length ? picomatch(globs.map((g) => g.replace('.', '/'))) : () => false;
}

/** Throws `table_not_allowed` unless `caller` may read `schema.table`; protected tables are refused to everyone. */
export function checkBackfillTable(schema: string, table: string, caller: BackfillCaller): void {
  const refused = protectedTableReason(schema, table);
  if (refused) throw new SluiceError('table_not_allowed', `${refused}; backfills never read it`);
  if (allowed.length === 0 && caller === 'cli') return;
  if (matches(`${schema}/${table}`)) return;
  throw new SluiceError(
    'table_not_allowed',
    allowed.length
      ? `${schema}.${table} is not in the config's backfill.tables (${allowed.join(', ')})`
      : `${schema}.${table}: processes may backfill only tables listed in the config's backfill.tables (empty)`,
  );
}
