import { createHash } from 'node:crypto';
import { quoteIdent as qi, quoteLiteral as ql } from './identifiers';

export interface CaptureSpec {
  schema: string;
  table: string;
  entity: string;
  idColumn: string;
  /** Payload columns, also the watched ones for UPDATE; null: the whole row, every column watched. */
  columns: string[] | null;
}

export interface ColumnInfo {
  name: string;
  /** false for types without an equality operator (json, xml, point...): compared as text. */
  comparable: boolean;
}

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

/**
 * The trigger function of one captured table, shared by its three statement-level triggers. Each
 * statement makes one sluice_enqueue call with arrays aggregated over the transition table, so a
 * 10,000-row UPDATE is one INSERT ... SELECT, in the same transaction as the change.
 * UPDATE keeps only rows whose watched columns changed; a row whose key changed is a delete of the
 * old key and an insert of the new one. The payload is the new row (the old one for a delete).
 */
export function triggerFunctionSql(spec: CaptureSpec, watched: ColumnInfo[], sluiceSchema: string): string {
  const fn = `${qi(sluiceSchema)}.${qi(functionName(spec.schema, spec.table))}`;
  const enqueue = `${qi(sluiceSchema)}.sluice_enqueue`;
  const id = qi(spec.idColumn);
  const entity = ql(spec.entity);
  const source = ql(`trigger:${spec.schema}.${spec.table}`);
  // EXECUTE: planned afresh with the transition table's real size (a cached plan made for a 1-row
  // statement would nest-loop through a 50,000-row one). Names are plain identifiers: no $ inside.
  const call = (op: string, alias: string, rest: string) =>
    `EXECUTE $q$SELECT ${enqueue}(${entity}, '${op}', ${source}, array_agg(${alias}.${id}::text), array_agg(${payloadExpr(alias, spec)}), NULL) ${rest} HAVING count(*) > 0$q$;`;
  return `
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $sluice$
BEGIN
  IF TG_OP = 'INSERT' THEN
    ${call('insert', 'n', 'FROM sluice_new n')}
  ELSIF TG_OP = 'UPDATE' THEN
    ${call('update', 'n', `FROM sluice_old o JOIN sluice_new n ON o.${id} = n.${id} WHERE ${changedExpr(watched)}`)}
    ${call('delete', 'o', `FROM sluice_old o WHERE NOT EXISTS (SELECT 1 FROM sluice_new n WHERE n.${id} = o.${id})`)}
    ${call('insert', 'n', `FROM sluice_new n WHERE NOT EXISTS (SELECT 1 FROM sluice_old o WHERE o.${id} = n.${id})`)}
  ELSE
    ${call('delete', 'o', 'FROM sluice_old o')}
  END IF;
  RETURN NULL;
END
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
