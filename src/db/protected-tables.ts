import { sluiceSchema } from './schema-name';

/** Sluice's own tables by name, wherever they live (an install older than its own schema had them in public). */
const OWN_TABLE = /^(event_log|event_queue|sluice_[a-z0-9_]*)$/i;

/**
 * Why Sluice never reads (backfill) or captures (`capture add`) `schema.table`, or null when it may:
 * system catalogs (pg_catalog, pg_toast, pg_temp_N, any pg_*, information_schema) and Sluice's own
 * tables, by their schema and by their names. The one check both paths use.
 */
export function protectedTableReason(schema: string, table: string): string | null {
  const s = schema.toLowerCase();
  if (s.startsWith('pg_') || s === 'information_schema') return `${schema}.${table} is a system table`;
  if (schema === sluiceSchema() || OWN_TABLE.test(table))
    return `${schema}.${table} is one of Sluice's own tables`;
  return null;
}
