import type { Queryable } from '../pool';

/**
 * Returns rows whose claim expired (their worker died or hung past the lease) to the queue. The
 * attempt they spent is kept: a row that kills its worker every time still ends as a dead letter. The running
 * rows are the rows with a holder (event_queue_held_idx, 0023): the sweep reads the rows in flight, not the backlog.
 */
export async function recoverExpired(db: Queryable): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, run_at = now(), updated_at = now()
      WHERE locked_by IS NOT NULL AND locked_until < now()`,
  );
  return res.rowCount ?? 0;
}

/**
 * Gives back rows this process claimed but did not settle. By default (shutdown) the attempt is
 * refunded, since the row was not its fault; a stopped slow batch keeps it.
 */
export async function releaseMine(
  db: Queryable,
  holder: string,
  ids?: string[],
  { refund = true }: { refund?: boolean } = {},
): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, run_at = now(),
            attempts = CASE WHEN $3 THEN greatest(attempts - 1, 0) ELSE attempts END, updated_at = now()
      WHERE locked_by = $1 AND ($2::bigint[] IS NULL OR id = ANY ($2::bigint[]))`,
    [holder, ids ?? null, refund],
  );
  return res.rowCount ?? 0;
}
