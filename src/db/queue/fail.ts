import type { Queryable } from '../pool';

export interface Failure {
  id: string;
  /** true: dead letter now; false: back to pending at `runAt`. */
  dead: boolean;
  runAt: Date;
  error: string;
  status: number | null;
  response: string | null;
  /** Deferred (breaker open): the attempt is given back instead of spent. */
  refundAttempt?: boolean;
}

/** Settles failed rows: retry later, defer, or dead-letter; one statement per batch. */
export async function fail(db: Queryable, holder: string, failures: Failure[]): Promise<number> {
  if (failures.length === 0) return 0;
  const res = await db.query(
    `UPDATE event_queue q
        SET state = CASE WHEN f.dead THEN 'dead' ELSE 'pending' END,
            run_at = f.run_at, last_error = f.error, last_status = f.status, last_response = f.response,
            attempts = q.attempts - CASE WHEN f.refund THEN 1 ELSE 0 END,
            locked_by = NULL, locked_until = NULL, updated_at = now(),
            done_at = CASE WHEN f.dead THEN now() ELSE NULL END
       FROM unnest($2::bigint[], $3::bool[], $4::timestamptz[], $5::text[], $6::int[], $7::text[], $8::bool[])
            AS f(id, dead, run_at, error, status, response, refund)
      WHERE q.id = f.id AND q.state = 'running' AND q.locked_by = $1`,
    [
      holder,
      failures.map((f) => f.id),
      failures.map((f) => f.dead),
      failures.map((f) => f.runAt),
      failures.map((f) => f.error.slice(0, 2000)),
      failures.map((f) => f.status),
      failures.map((f) => f.response),
      failures.map((f) => f.refundAttempt ?? false),
    ],
  );
  return res.rowCount ?? 0;
}
