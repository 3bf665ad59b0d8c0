import type { Queryable } from '../pool';

/** Extends the claim on every row this process still runs, so a long callout is not mistaken for a dead worker. */
export async function heartbeat(db: Queryable, holder: string, leaseMs: number): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET locked_until = now() + make_interval(secs => $2::float8 / 1000)
      WHERE state = 'running' AND locked_by = $1`,
    [holder, leaseMs],
  );
  return res.rowCount ?? 0;
}
