import type { Pool, PoolClient } from 'pg';
import { inTransaction, rows } from '../db/pool';
import { PushEntitySchema } from './push';
import { protectedTableReason } from '../db/protected-tables';
import { sluiceSchema } from '../db/schema-name';
import { checkIdentifier, quoteIdent } from './identifiers';
import {
  createTriggersSql,
  dropTriggersSql,
  functionName,
  rowsFunctionName,
  rowsFunctionSql,
  triggerFunctionSql,
  TRIGGER_NAMES,
  TRIGGER_VERSION,
  type PayloadMode,
  type CaptureSpec,
  type ColumnInfo,
} from './trigger-sql';

export interface CaptureAddInput {
  table: string;
  schema?: string;
  entity?: string;
  idColumn?: string;
  columns?: string[] | null;
  /** latest (default): payloads read at fan-out; exact: row images taken in the trigger. */
  payload?: PayloadMode;
}

/** A request Sluice refuses before touching anything (the CLI exits 2 with the message). */
export class CaptureInputError extends Error {
  override name = 'CaptureInputError';
}

export interface CapturedTable {
  schema: string;
  table: string;
  entity: string;
  idColumn: string;
  columns: string[] | null;
  payload: PayloadMode;
  /** All three triggers are present on the table. */
  installed: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Validates every name and checks the table and its columns exist; throws CaptureInputError otherwise. */
/** Runs inside a transaction (the type probes use a savepoint). */
export async function resolveSpec(
  db: PoolClient,
  input: CaptureAddInput,
): Promise<{
  spec: CaptureSpec;
  watched: ColumnInfo[];
}> {
  try {
    const schema = checkIdentifier('schema', input.schema ?? 'public');
    const table = checkIdentifier('table', input.table);
    const idColumn = checkIdentifier('id column', input.idColumn ?? 'id');
    const columns = input.columns?.length
      ? [...new Set(input.columns.map((c) => checkIdentifier('column', c)))]
      : null;
    const entity = input.entity ?? table;
    const payload = input.payload ?? 'latest';
    if (payload !== 'latest' && payload !== 'exact')
      throw new CaptureInputError(`payload "${String(payload).slice(0, 40)}": use latest or exact`);
    const e = PushEntitySchema.safeParse(entity);
    if (!e.success)
      throw new CaptureInputError(`entity "${entity.slice(0, 80)}": ${e.error.issues[0].message}`);

    const [rel] = await rows<{ oid: number; relkind: string }>(
      db,
      `SELECT c.oid::int AS oid, c.relkind::text AS relkind FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    if (!rel) throw new CaptureInputError(`table ${schema}.${table} does not exist`);
    if (rel.relkind !== 'r' && rel.relkind !== 'p')
      throw new CaptureInputError(`${schema}.${table} is not a table (relkind ${rel.relkind})`);
    const refused = protectedTableReason(schema, table);
    if (refused) throw new CaptureInputError(`${refused}; Sluice never captures it`);
    const attrs = await rows<{ name: string; type: string }>(
      db,
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [rel.oid],
    );
    const known = new Map(attrs.map((a) => [a.name, a.type]));
    for (const c of [idColumn, ...(columns ?? [])]) {
      if (!known.has(c)) throw new CaptureInputError(`column "${c}" does not exist in ${schema}.${table}`);
    }
    const watchedNames = columns ?? attrs.map((a) => a.name);
    const watched: ColumnInfo[] = [];
    for (const name of watchedNames)
      watched.push({ name, comparable: await hasEquality(db, known.get(name)!) });
    return {
      spec: { schema, table, entity, idColumn, columns, idType: known.get(idColumn)!, payload },
      watched,
    };
  } catch (err) {
    if (err instanceof Error && err.name === 'BadIdentifierError') throw new CaptureInputError(err.message);
    throw err;
  }
}

/** json, xml, point... have no equality operator; a probe tells (the type text comes from format_type). */
async function hasEquality(db: PoolClient, type: string): Promise<boolean> {
  await db.query('SAVEPOINT sluice_probe');
  try {
    await db.query(`SELECT NULL::${type} IS DISTINCT FROM NULL::${type}`);
    await db.query('RELEASE SAVEPOINT sluice_probe');
    return true;
  } catch {
    await db.query('ROLLBACK TO SAVEPOINT sluice_probe');
    return false;
  }
}

/** (Re)writes the trigger function and the row reader of one capture; takes no lock on the captured table. */
export async function installFunctions(
  db: PoolClient,
  spec: CaptureSpec,
  watched: ColumnInfo[],
  sluiceSchema: string,
): Promise<void> {
  await db.query(triggerFunctionSql(spec, watched, sluiceSchema));
  await db.query(rowsFunctionSql(spec, sluiceSchema));
}

/**
 * Installs (or re-installs, with new options) the capture of one table: its trigger function, three
 * statement-level triggers and the registry row, all in one transaction. Idempotent.
 */
export async function addCapture(pool: Pool, input: CaptureAddInput): Promise<CapturedTable> {
  return inTransaction(pool, async (client) => {
    const { spec, watched } = await resolveSpec(client, input);
    const schema = sluiceSchema();
    await installFunctions(client, spec, watched, schema);
    for (const sql of createTriggersSql(spec, schema)) await client.query(sql);
    await client.query(
      `INSERT INTO sluice_capture (schema_name, table_name, entity, id_column, columns, function_name, payload, rows_function,
                                   trigger_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (schema_name, table_name) DO UPDATE SET entity = excluded.entity, id_column = excluded.id_column,
         columns = excluded.columns, function_name = excluded.function_name, payload = excluded.payload,
         rows_function = excluded.rows_function, trigger_version = excluded.trigger_version, updated_at = now()`,
      [
        spec.schema,
        spec.table,
        spec.entity,
        spec.idColumn,
        spec.columns,
        functionName(spec.schema, spec.table),
        spec.payload,
        rowsFunctionName(spec.schema, spec.table),
        TRIGGER_VERSION,
      ],
    );
    const [row] = (await listCaptures(client)).filter(
      (c) => c.schema === spec.schema && c.table === spec.table,
    );
    return row;
  });
}

/** Removes the triggers, the function and the registry row. Returns false when the table was not captured. */
export async function removeCapture(pool: Pool, table: string, schema = 'public'): Promise<boolean> {
  let s: string;
  let t: string;
  try {
    s = checkIdentifier('schema', schema);
    t = checkIdentifier('table', table);
  } catch (err) {
    throw new CaptureInputError((err as Error).message);
  }
  return inTransaction(pool, async (client) => {
    const [reg] = await rows<{ function_name: string }>(
      client,
      `SELECT function_name FROM sluice_capture WHERE schema_name = $1 AND table_name = $2 FOR UPDATE`,
      [s, t],
    );
    const [exists] = await rows(
      client,
      `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [s, t],
    );
    if (exists) for (const sql of dropTriggersSql(s, t)) await client.query(sql);
    if (!reg) return false;
    const own = quoteIdent(sluiceSchema());
    await client.query(`DROP FUNCTION IF EXISTS ${own}.${quoteIdent(reg.function_name)}()`);
    // Changes journaled but not yet fanned out still go out, without a payload.
    await client.query(`DROP FUNCTION IF EXISTS ${own}.${quoteIdent(rowsFunctionName(s, t))}(text[])`);
    await client.query(`DELETE FROM sluice_capture WHERE schema_name = $1 AND table_name = $2`, [s, t]);
    return true;
  });
}

export async function listCaptures(db: PoolClient | Pool): Promise<CapturedTable[]> {
  const list = await rows<{
    schema_name: string;
    table_name: string;
    entity: string;
    id_column: string;
    columns: string[] | null;
    payload: PayloadMode;
    created_at: Date;
    updated_at: Date;
    triggers: string;
  }>(
    db,
    `SELECT c.schema_name, c.table_name, c.entity, c.id_column, c.columns, c.payload, c.created_at, c.updated_at,
            (SELECT count(*) FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid
               JOIN pg_namespace n ON n.oid = r.relnamespace
              WHERE n.nspname = c.schema_name AND r.relname = c.table_name AND t.tgname = ANY ($1::text[])) AS triggers
       FROM sluice_capture c ORDER BY c.schema_name, c.table_name`,
    [Object.values(TRIGGER_NAMES)],
  );
  return list.map((r) => ({
    schema: r.schema_name,
    table: r.table_name,
    entity: r.entity,
    idColumn: r.id_column,
    columns: r.columns,
    payload: r.payload,
    installed: Number(r.triggers) === 3,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
