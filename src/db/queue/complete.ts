import type { Queryable } from '../pool';

/** Marks delivered rows done, in one statement per batch. Rows no longer locked to `holder` are left alone. */
export async function complete(
  db: Queryable,
  holder: string,
  ids: string[],
  statuses: number[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db.query(
    `UPDATE event_queue q
        SET state = 'done', done_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL,
            last_status = f.status, last_error = NULL
       FROM unnest($2::bigint[], $3::int[]) AS f(id, status)
      WHERE q.id = f.id AND q.state = 'running' AND q.locked_by = $1`,
    [holder, ids, statuses],
  );
  return res.rowCount ?? 0;
}
