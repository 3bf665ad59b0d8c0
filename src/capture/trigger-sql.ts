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

/** Rows up to which a statement's capture runs with a cached plan (above it, planned for its real size). */
const SMALL_STATEMENT = 200;

export const TRIGGER_NAMES = {
  insert: 'sluice_capture_insert',
  update: 'sluice_capture_update',
  delete: 'sluice_capture_delete',
} as const;

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
 * statement writes one journal row per op (sluice_capture_batch: the ids, aggregated over the transition
 * table) in the writer's transaction; sluice_fan_out_captures() turns them into events after commit.
 * Row images are taken here only for deletes (the row is gone afterwards) and with `payload: exact`.
 * UPDATE is one FULL JOIN of the old and new rows on the key: a matched row counts when a watched column
 * changed, an unmatched old key is a delete and an unmatched new key an insert (a key change).
 */
export function triggerFunctionSql(spec: CaptureSpec, watched: ColumnInfo[], sluiceSchema: string): string {
  const fn = `${qi(sluiceSchema)}.${qi(functionName(spec.schema, spec.table))}`;
  const journal = `${qi(sluiceSchema)}.sluice_capture_batch`;
  const id = qi(spec.idColumn);
  const head = `${ql(spec.schema)}, ${ql(spec.table)}, ${ql(spec.entity)}`;
  const source = ql(`trigger:${spec.schema}.${spec.table}`);
  const exact = spec.payload === 'exact';
  const images = (alias: string, filter = '') =>
    exact || alias === 'o' ? `array_agg(${payloadExpr(alias, spec)})${filter}` : 'NULL::jsonb[]';
  const cols = '(schema_name, table_name, entity, op, source, ids, payloads, size)';
  // EXECUTE: planned afresh with the transition table's real size (a cached plan made for a 1-row
  // statement would nest-loop through a 50,000-row one). Names are plain identifiers: no $ inside.
  // The function's own work_mem keeps the key join an in-memory hash join (the default 4 MB sorts a
  // 50,000-row statement on disk), and JIT is off: compiling costs more than these plans run.
  // Small statements (the usual OLTP write) run the same SQL statically: its plan is cached per session,
  // where planning it afresh cost more than the rest of the trigger.
  const sized = (
    transition: string,
    sql: string,
  ) => `IF (SELECT count(*) FROM ${transition}) <= ${SMALL_STATEMENT} THEN
      ${sql};
    ELSE
      EXECUTE $q$${sql}$q$;
    END IF;`;
  const single = (op: string, alias: string, from: string) =>
    sized(
      from,
      `INSERT INTO ${journal} ${cols} SELECT ${head}, '${op}', ${source}, array_agg(${alias}.${id}::text), ${images(alias)}, count(*) FROM ${from} ${alias} HAVING count(*) > 0`,
    );
  const upd = `o.${id} IS NOT NULL AND n.${id} IS NOT NULL AND ${changedExpr(watched)}`;
  const f = (cond: string) => ` FILTER (WHERE ${cond})`;
  const update = sized(
    'sluice_new',
    `INSERT INTO ${journal} ${cols}
    SELECT ${head}, v.op, ${source}, v.ids, v.images, cardinality(v.ids)
      FROM (SELECT array_agg(o.${id}::text)${f(`n.${id} IS NULL`)} AS del, ${images('o', f(`n.${id} IS NULL`))} AS del_images,
                   array_agg(n.${id}::text)${f(upd)} AS upd, ${images('n', f(upd))} AS upd_images,
                   array_agg(n.${id}::text)${f(`o.${id} IS NULL`)} AS ins, ${images('n', f(`o.${id} IS NULL`))} AS ins_images
              FROM sluice_old o FULL JOIN sluice_new n ON o.${id} = n.${id}) x
     CROSS JOIN LATERAL (VALUES (1, 'delete', x.del, x.del_images), (2, 'update', x.upd, x.upd_images),
                                (3, 'insert', x.ins, x.ins_images)) v(k, op, ids, images)
     WHERE v.ids IS NOT NULL ORDER BY v.k`,
  );
  return `
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql
  SET work_mem = '64MB' SET jit = off AS $sluice$
DECLARE journaled integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    ${single('insert', 'n', 'sluice_new')}
  ELSIF TG_OP = 'UPDATE' THEN
    ${update}
  ELSE
    ${single('delete', 'o', 'sluice_old')}
  END IF;
  GET DIAGNOSTICS journaled = ROW_COUNT;
  -- Wakes the fan-out at commit (a latency hint: it also polls).
  IF journaled > 0 THEN
    PERFORM pg_notify('sluice', '');
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
  const fn = `${qi(sluiceSchema)}.${qi(rowsFunctionName(spec.schema, spec.table))}`;
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
  const fn = `${qi(sluiceSchema)}.${qi(functionName(spec.schema, spec.table))}`;
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
