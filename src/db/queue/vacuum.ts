import type { Pool } from 'pg';
import { rows, type Queryable } from '../pool';

/** Sluice's tables that every event updates or deletes rows of (each change leaves a dead row version). */
export const CHURN_TABLES = ['event_queue', 'event_log', 'sluice_capture_batch'] as const;

export interface TableChurn {
  table: string;
  live: number;
  dead: number;
  /** ms since the last vacuum of the table, manual or auto (null: never). */
  sinceVacuumMs: number | null;
}

/** Live and dead row versions of `tables` (Sluice's schema, through search_path), by the statistics system. */
export async function tableChurn(db: Queryable, tables: readonly string[]): Promise<TableChurn[]> {
  const result = await rows<{ table: string; live: string; dead: string; since_ms: number | null }>(
    db,
    `SELECT t.relname AS table, t.n_live_tup AS live, t.n_dead_tup AS dead,
            extract(epoch FROM now() - greatest(t.last_vacuum, t.last_autovacuum)) * 1000 AS since_ms
       FROM pg_stat_user_tables t
      WHERE t.relid = ANY (ARRAY(SELECT to_regclass(n) FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NOT NULL))`,
    [tables],
  );
  return result.map((r) => ({
    table: r.table,
    live: Number(r.live),
    dead: Number(r.dead),
    sinceVacuumMs: r.since_ms === null ? null : Number(r.since_ms),
  }));
}

/**
 * `VACUUM (ANALYZE)` of one of Sluice's tables, on a connection of its own with no statement timeout (the
 * drain's 10 s would cancel it on a big table). It runs beside the drain: it takes no lock a claim or settle
 * waits for.
 */
export async function vacuumTable(pool: Pool, table: (typeof CHURN_TABLES)[number]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query(`VACUUM (ANALYZE) ${table}`);
  } finally {
    await client.query('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
}
