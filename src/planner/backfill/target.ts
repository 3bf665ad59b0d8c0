import type { Queryable } from '../../db/pool';
import { rows } from '../../db/pool';
import { SluiceError } from '../../lib/errors';
import { checkBackfillTable, type BackfillCaller } from './access';

/** Plain SQL identifiers only (no quoting games): the table may be schema-qualified. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface BackfillTarget {
  /** `schema.table`, as validated. */
  table: string;
  schema: string;
  name: string;
  keyColumn: string;
  /** Statements built by Postgres's format('%I'): $1 = after (omitted on the first page), then the rest. */
  sql: {
    boundFirst: string;
    boundAfter: string;
    pageFirst: string;
    pageAfter: string;
    countFirst: string;
    countAfter: string;
  };
}

export const badInput = (message: string) => new SluiceError('bad_input', message);

/** `schema.table` or `table` (public) -> [schema, table]; throws bad_input unless both are plain identifiers. */
export function splitTable(table: string): [string, string] {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p)))
    throw badInput(`table "${table}" must be a plain identifier, optionally schema-qualified (schema.table)`);
  return parts.length === 2 ? [parts[0], parts[1]] : ['public', parts[0]];
}

/**
 * Validates a table and its keyset column the way the capture helper does: a strict identifier regex,
 * the access check (system and Sluice's own tables never, others per backfill.tables and the caller),
 * an existence check in the catalog, and every statement quoted by Postgres itself with format('%I').
 * The key must be a single-column primary key or unique index, or keyset paging could skip rows.
 */
export async function resolveTarget(
  db: Queryable,
  table: string,
  key: string | undefined,
  caller: BackfillCaller,
): Promise<BackfillTarget> {
  const [schema, name] = splitTable(table);
  if (key !== undefined && !IDENT.test(key)) throw badInput(`key column "${key}" must be a plain identifier`);
  checkBackfillTable(schema, name, caller);

  const [rel] = await rows<{ oid: number }>(
    db,
    `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  if (!rel) throw badInput(`table ${schema}.${name} does not exist`);

  // Single-column unique keys of the table, primary key first.
  const keys = await rows<{ col: string; primary: boolean }>(
    db,
    `SELECT a.attname AS col, i.indisprimary AS primary
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
      WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
      ORDER BY i.indisprimary DESC, a.attname`,
    [rel.oid],
  );
  let keyColumn: string;
  if (key !== undefined) {
    const [col] = await rows<{ attname: string }>(
      db,
      'SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped',
      [rel.oid, key],
    );
    if (!col) throw badInput(`column "${key}" does not exist in ${schema}.${name}`);
    if (!keys.some((k) => k.col === key))
      throw badInput(
        `column "${key}" of ${schema}.${name} is not a single-column primary key or unique index`,
      );
    keyColumn = key;
  } else {
    const pk = keys.find((k) => k.primary);
    if (!pk)
      throw badInput(
        `${schema}.${name} has no single-column primary key; name a unique key column with --key`,
      );
    keyColumn = pk.col;
  }

  const [sql] = await rows<BackfillTarget['sql']>(
    db,
    `SELECT
       format('SELECT max(k)::text AS last, count(*)::int AS n FROM (SELECT %1$I AS k FROM %2$I.%3$I WHERE %1$I IS NOT NULL ORDER BY %1$I LIMIT $1) s', $1::text, $2::text, $3::text) AS "boundFirst",
       format('SELECT max(k)::text AS last, count(*)::int AS n FROM (SELECT %1$I AS k FROM %2$I.%3$I WHERE %1$I > $1 ORDER BY %1$I LIMIT $2) s', $1, $2, $3) AS "boundAfter",
       format('SELECT sluice_enqueue_route($2, $3, ''upsert'', $4, coalesce(array_agg(t.%1$I::text ORDER BY t.%1$I), ''{}''), coalesce(array_agg(to_jsonb(t) ORDER BY t.%1$I), ''{}''), $5) AS n FROM %2$I.%3$I t WHERE t.%1$I <= $1', $1, $2, $3) AS "pageFirst",
       format('SELECT sluice_enqueue_route($3, $4, ''upsert'', $5, coalesce(array_agg(t.%1$I::text ORDER BY t.%1$I), ''{}''), coalesce(array_agg(to_jsonb(t) ORDER BY t.%1$I), ''{}''), $6) AS n FROM %2$I.%3$I t WHERE t.%1$I > $1 AND t.%1$I <= $2', $1, $2, $3) AS "pageAfter",
       format('SELECT count(*)::bigint AS n FROM %2$I.%3$I WHERE %1$I IS NOT NULL', $1, $2, $3) AS "countFirst",
       format('SELECT count(*)::bigint AS n FROM %2$I.%3$I WHERE %1$I > $1', $1, $2, $3) AS "countAfter"`,
    [keyColumn, schema, name],
  );
  return { table: `${schema}.${name}`, schema, name, keyColumn, sql };
}
