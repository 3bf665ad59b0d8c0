import type { Queryable } from '../pool';

/**
 * Extends the claim on every row this process still runs, so a long callout is not mistaken for a dead worker.
 * A row is running exactly while it has a holder: found by holder through event_queue_held_idx (0023), so no
 * plan can walk the backlog for them.
 */
export async function heartbeat(db: Queryable, holder: string, leaseMs: number): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET locked_until = now() + make_interval(secs => $2::float8 / 1000)
      WHERE locked_by = $1`,
    [holder, leaseMs],
  );
  return res.rowCount ?? 0;
}
