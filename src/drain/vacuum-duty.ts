import type { Pool } from 'pg';
import { CHURN_TABLES, tableChurn, vacuumTable, type TableChurn } from '../db/queue/vacuum';
import type { DrainLog } from './types';

/** How often the coordinator looks at the churn tables' dead rows, ms. */
export const VACUUM_CHECK_EVERY_MS = 10_000;
/** A table is vacuumed once its dead row versions pass this many and this share of its live rows... */
export const VACUUM_MIN_DEAD = 50_000;
export const VACUUM_DEAD_SHARE = 0.2;
/** ...and it was not vacuumed (by us or autovacuum) in the last this many ms. */
export const VACUUM_MIN_GAP_MS = 30_000;

/** The tables to vacuum now, by the policy above. */
export function dueForVacuum(tables: TableChurn[]): TableChurn[] {
  return tables.filter(
    (t) =>
      t.dead >= Math.max(VACUUM_MIN_DEAD, VACUUM_DEAD_SHARE * t.live) &&
      (t.sinceVacuumMs === null || t.sinceVacuumMs >= VACUUM_MIN_GAP_MS),
  );
}

/**
 * The queue's own vacuum, a coordinator duty. Every claimed row leaves dead versions in the ready index (a row
 * leaves it when claimed); until a vacuum removes them every claim reads past them, so on a Postgres whose
 * autovacuum is off or lags (cost-limited, or busy with bigger tables) a claim costs O(rows drained since the
 * last vacuum): draining 1,000,000 rows with autovacuum off fell to ~900 rows/s near the end. So the coordinator
 * vacuums Sluice's churn tables itself when their dead rows pile up (leader-duties.ts runs this pass every
 * VACUUM_CHECK_EVERY_MS while it leads); where autovacuum keeps up, it never has to.
 */
export async function vacuumPass(pool: Pool, log: DrainLog): Promise<void> {
  for (const t of dueForVacuum(await tableChurn(pool, CHURN_TABLES))) {
    const table = CHURN_TABLES.find((n) => n === t.table);
    if (!table) continue;
    const started = Date.now();
    await vacuumTable(pool, table);
    log.info(
      { table, dead: t.dead, live: t.live, ms: Date.now() - started },
      `vacuumed ${table}: its dead rows had piled up (autovacuum off or behind)`,
    );
  }
}
