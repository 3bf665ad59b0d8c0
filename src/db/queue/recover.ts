import type { Queryable } from '../pool';

/**
 * Returns rows whose claim expired (their worker died or hung past the lease) to the queue. The
 * attempt they spent is kept: a row that kills its worker every time still ends as a dead letter.
 */
export async function recoverExpired(db: Queryable): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, run_at = now(), updated_at = now()
      WHERE state = 'running' AND locked_until < now()`,
  );
  return res.rowCount ?? 0;
}

/** On taking leadership: rows still held by an earlier leader are released at once, not after their lease. */
export async function releaseOthers(db: Queryable, holder: string): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, run_at = now(), updated_at = now()
      WHERE state = 'running' AND locked_by IS DISTINCT FROM $1`,
    [holder],
  );
  return res.rowCount ?? 0;
}

/** Gives back rows this process claimed but did not settle (shutdown), without spending their attempt. */
export async function releaseMine(db: Queryable, holder: string, ids?: string[]): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, attempts = greatest(attempts - 1, 0),
            updated_at = now()
      WHERE state = 'running' AND locked_by = $1 AND ($2::bigint[] IS NULL OR id = ANY ($2::bigint[]))`,
    [holder, ids ?? null],
  );
  return res.rowCount ?? 0;
}
