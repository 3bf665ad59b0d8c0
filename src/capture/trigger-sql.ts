import { createHash } from 'node:crypto';
import { quoteIdent as qi, quoteLiteral as ql } from './identifiers';

export interface CaptureSpec {
  schema: string;
  table: string;
  entity: string;
  idColumn: string;
  /** Payload columns, also the watched ones for UPDATE; null: the whole row, every column watched. */
  columns: string[] | null;
  /** The key column's type (format_type), for lookups by key. */
  idType: string;
  /** latest: payloads read at fan-out; exact: row images taken in the trigger. */
  payload: PayloadMode;
}

export type PayloadMode = 'latest' | 'exact';

export interface ColumnInfo {
  name: string;
  /** false for types without an equality operator (json, xml, point...): compared as text. */
  comparable: boolean;
}

/** Rows up to which a statement journals one row per change (no aggregate to set up). */
const TINY_STATEMENT = 8;
/** Rows up to which a statement's capture runs with a cached plan (above it, planned for its real size). */
const SMALL_STATEMENT = 200;

/**
 * The version of the generated SQL, kept in sluice_capture.trigger_version: captures installed by an older
 * Sluice are rewritten at start (upgradeCaptures). Bump it whenever triggerFunctionSql or rowsFunctionSql changes.
 */
export const TRIGGER_VERSION = 2;

export const TRIGGER_NAMES = {
  insert: 'sluice_capture_insert',
  update: 'sluice_capture_update',
  delete: 'sluice_capture_delete',
} as const;

/**
 * The one place the generated SQL names Sluice's own objects (functions and the journal): trigger functions
 * run with the writer's search_path, so every such name is qualified with Sluice's schema, here.
 */
export function sluiceObject(sluiceSchema: string, name: string): string {
  return `${qi(sluiceSchema)}.${qi(name)}`;
}

/** One function per captured table, named from a hash so every name stays a valid identifier. */
export function functionName(schema: string, table: string): string {
  const h = createHash('sha256').update(`${schema}.${table}`).digest('hex').slice(0, 16);
  return `sluice_capture_${h}`;
}

function payloadExpr(alias: string, spec: CaptureSpec): string {
  if (!spec.columns) return `to_jsonb(${alias}.*)`;
  const cols = [...new Set([spec.idColumn, ...spec.columns])];
  // jsonb_build_object takes at most 100 arguments: 50 columns per call, concatenated.
  const parts: string[] = [];
  for (let i = 0; i < cols.length; i += 50) {
    const pairs = cols.slice(i, i + 50).map((c) => `${ql(c)}, ${alias}.${qi(c)}`);
    parts.push(`jsonb_build_object(${pairs.join(', ')})`);
  }
  return parts.join(' || ');
}

function changedExpr(watched: ColumnInfo[]): string {
  const side = (alias: string) =>
    watched.map((c) => `${alias}.${qi(c.name)}${c.comparable ? '' : '::text'}`).join(', ');
  return watched.length === 1
    ? `${side('o')} IS DISTINCT FROM ${side('n')}`
    : `(${side('o')}) IS DISTINCT FROM (${side('n')})`;
}

/** The row reader's name: `sluice_rows_<hash>`, next to the trigger function. */
export function rowsFunctionName(schema: string, table: string): string {
  return functionName(schema, table).replace('sluice_capture_', 'sluice_rows_');
}

/**
 * The trigger function of one captured table, shared by its three statement-level triggers. Each
 * statement journals its changes (sluice_capture_batch) in the writer's transaction, and does nothing else:
 * no NOTIFY (Postgres serialises the commits of notifying transactions; the fan-out looks at the journal
 * instead). sluice_fan_out_captures() turns journal rows into events after commit. Row images are taken
 * here only for deletes (the row is gone afterwards) and with `payload: exact`. UPDATE is a FULL JOIN of
 * the old and new rows on the key: a matched row counts when a watched column changed, an unmatched old
 * key is a delete and an unmatched new key an insert (a key change).
 *
 * Three sizes, by the statement's row count: up to TINY_STATEMENT rows (the usual OLTP write), one journal
 * row per change, with no aggregate to set up (that set-up was most of the trigger's cost on one row); up to
 * SMALL_STATEMENT, one journal row per op, ids aggregated; both run plans cached per session, made for a
 * small statement. Bigger ones are planned for their real size (EXECUTE: a cached plan made for a 1-row
 * statement would be reused for a 50,000-row one), with the memory to hash the join and group by op
 * (rather than sort 50,000 rows for three groups) and without JIT (compiling costs more than these plans
 * run), all set for that statement only: a SET clause on the function would cost every call.
 */
export function triggerFunctionSql(spec: CaptureSpec, watched: ColumnInfo[], sluiceSchema: string): string {
  const fn = sluiceObject(sluiceSchema, functionName(spec.schema, spec.table));
  const journal = sluiceObject(sluiceSchema, 'sluice_capture_batch');
  const id = qi(spec.idColumn);
  const head = `${ql(spec.schema)}, ${ql(spec.table)}, ${ql(spec.entity)}`;
  const source = ql(`trigger:${spec.schema}.${spec.table}`);
  const exact = spec.payload === 'exact';
  const insert = `INSERT INTO ${journal} (schema_name, table_name, entity, op, source, ids, payloads, size)`;
  const img = (alias: string) => payloadExpr(alias, spec);
  const single = (op: 'insert' | 'delete') => {
    const a = op === 'insert' ? 'n' : 'o';
    const from = `FROM ${op === 'insert' ? 'sluice_new' : 'sluice_old'} ${a}`;
    const keep = exact || op === 'delete';
    return {
      tiny: `${insert} SELECT ${head}, '${op}', ${source}, ARRAY[${a}.${id}::text], ${keep ? `ARRAY[${img(a)}]` : 'NULL'}, 1 ${from}`,
      small: `${insert} SELECT ${head}, '${op}', ${source}, array_agg(${a}.${id}::text), ${keep ? `array_agg(${img(a)})` : 'NULL'}, count(*) ${from} HAVING count(*) > 0`,
    };
  };
  const op = `CASE WHEN n.${id} IS NULL THEN 'delete' WHEN o.${id} IS NULL THEN 'insert' ELSE 'update' END`;
  // A row image where the change needs one: a delete's old row; with exact, also the new row.
  const image = exact
    ? `CASE WHEN n.${id} IS NULL THEN ${img('o')} ELSE ${img('n')} END`
    : `CASE WHEN n.${id} IS NULL THEN ${img('o')} END`;
  const joined = `FROM sluice_old o FULL JOIN sluice_new n ON o.${id} = n.${id}
             WHERE o.${id} IS NULL OR n.${id} IS NULL OR ${changedExpr(watched)}`;
  const update = {
    tiny: `${insert}
    SELECT ${head}, ${op}, ${source}, ARRAY[coalesce(n.${id}, o.${id})::text],
           ${exact ? `ARRAY[${image}]` : `CASE WHEN n.${id} IS NULL THEN ARRAY[${img('o')}] END`}, 1
      ${joined}`,
    // One row per op, delete < insert < update (ops of one statement touch different records).
    small: `${insert}
    SELECT ${head}, c.op, ${source}, array_agg(c.id), ${exact ? 'array_agg(c.image)' : `CASE WHEN c.op = 'delete' THEN array_agg(c.image) END`}, count(*)
      FROM (SELECT ${op} AS op, coalesce(n.${id}, o.${id})::text AS id, ${image} AS image
              ${joined}) c
     GROUP BY c.op ORDER BY c.op`,
  };
  const sized = (
    transition: string,
    sql: { tiny: string; small: string },
  ) => `stmt_rows := (SELECT count(*) FROM ${transition});
    IF stmt_rows <= ${TINY_STATEMENT} THEN
      ${sql.tiny};
    ELSIF stmt_rows <= ${SMALL_STATEMENT} THEN
      ${sql.small};
    ELSE
      work_mem_was := current_setting('work_mem');
      jit_was := current_setting('jit');
      sort_was := current_setting('enable_sort');
      PERFORM set_config('work_mem', '64MB', true), set_config('jit', 'off', true), set_config('enable_sort', 'off', true);
      EXECUTE $q$${sql.small}$q$;
      PERFORM set_config('work_mem', work_mem_was, true), set_config('jit', jit_was, true),
              set_config('enable_sort', sort_was, true);
    END IF;`;
  return `
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $sluice$
DECLARE
  stmt_rows bigint;
  work_mem_was text;
  jit_was text;
  sort_was text;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    ${sized('sluice_new', update)}
  ELSIF TG_OP = 'INSERT' THEN
    ${sized('sluice_new', single('insert'))}
  ELSE
    ${sized('sluice_old', single('delete'))}
  END IF;
  RETURN NULL;
END
$sluice$`;
}

/**
 * The row reader fan-out uses for `payload: latest`: the payloads of the given ids as the rows are now,
 * in the ids' order, NULL where a row is gone. Keys are compared in the key column's own type, so the
 * lookup uses its index (one row per key even if the column is not unique: payloads pair with ids by
 * position).
 */
export function rowsFunctionSql(spec: CaptureSpec, sluiceSchema: string): string {
  const fn = sluiceObject(sluiceSchema, rowsFunctionName(spec.schema, spec.table));
  const table = `${qi(spec.schema)}.${qi(spec.table)}`;
  const id = qi(spec.idColumn);
  return `
CREATE OR REPLACE FUNCTION ${fn}(p_ids text[]) RETURNS jsonb[] LANGUAGE sql STABLE AS $sluice$
  SELECT array_agg(r.p ORDER BY u.ord)
    FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
    LEFT JOIN (SELECT DISTINCT ON (t.${id}) t.${id}::text AS id, ${payloadExpr('t', spec)} AS p FROM ${table} t
                WHERE t.${id} = ANY (p_ids::${spec.idType}[])) r ON r.id = u.id
$sluice$`;
}

/** The three statement-level triggers (transition tables are allowed only on single-event triggers). */
export function createTriggersSql(spec: CaptureSpec, sluiceSchema: string): string[] {
  const table = `${qi(spec.schema)}.${qi(spec.table)}`;
  const fn = sluiceObject(sluiceSchema, functionName(spec.schema, spec.table));
  return [
    `CREATE OR REPLACE TRIGGER ${TRIGGER_NAMES.insert} AFTER INSERT ON ${table}
       REFERENCING NEW TABLE AS sluice_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE OR REPLACE TRIGGER ${TRIGGER_NAMES.update} AFTER UPDATE ON ${table}
       REFERENCING OLD TABLE AS sluice_old NEW TABLE AS sluice_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE OR REPLACE TRIGGER ${TRIGGER_NAMES.delete} AFTER DELETE ON ${table}
       REFERENCING OLD TABLE AS sluice_old FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

export function dropTriggersSql(schema: string, table: string): string[] {
  const t = `${qi(schema)}.${qi(table)}`;
  return Object.values(TRIGGER_NAMES).map((name) => `DROP TRIGGER IF EXISTS ${name} ON ${t}`);
}
