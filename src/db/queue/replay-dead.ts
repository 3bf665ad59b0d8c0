import type { Queryable } from '../pool';

export interface ReplaySelector {
  ids?: string[];
  route?: string;
  since?: Date;
  /** Required to replay every dead letter when no other selector is given. */
  all?: boolean;
}

/**
 * Puts dead letters back to pending with attempts reset, due now, and NOTIFYs so the leading drain
 * picks them up at once. Selectors combine with AND. The last error stays for the record until the
 * next attempt overwrites it. Returns the number of rows replayed.
 */
export async function replayDead(db: Queryable, s: ReplaySelector): Promise<number> {
  if (!s.all && !s.ids?.length && !s.route && !s.since) return 0;
  const res = await db.query<{ n: string }>(
    `WITH replayed AS (
       UPDATE event_queue
          SET state = 'pending', attempts = 0, run_at = now(), done_at = NULL,
              locked_by = NULL, locked_until = NULL, updated_at = now()
        WHERE state = 'dead'
          AND ($1::bigint[] IS NULL OR id = ANY ($1::bigint[]))
          AND ($2::text IS NULL OR route = $2)
          AND ($3::timestamptz IS NULL OR done_at >= $3)
       RETURNING 1
     )
     SELECT count(*) AS n FROM replayed`,
    [s.ids?.length ? s.ids : null, s.route ?? null, s.since ?? null],
  );
  const n = Number(res.rows[0].n);
  // A latency hint for whichever process leads the drain; its poll would find the rows anyway.
  if (n > 0) await db.query(`SELECT pg_notify('sluice', '')`);
  return n;
}
