import { rows, type Queryable } from '../pool';

export interface CaptureBacklog {
  /** Captured changes committed but not yet fanned out into events. */
  changes: number;
  oldestAgeMs: number | null;
}

/** What the capture journal holds (a handful of rows: one per captured statement, deleted at fan-out). */
export async function captureBacklog(db: Queryable): Promise<CaptureBacklog> {
  const [r] = await rows<{ n: string | null; age_ms: number | null }>(
    db,
    `SELECT sum(size - done) AS n, (extract(epoch FROM now() - min(captured_at)) * 1000)::float8 AS age_ms
       FROM sluice_capture_batch`,
  );
  return { changes: Number(r.n ?? 0), oldestAgeMs: r.age_ms };
}

/**
 * Whether the journal holds a committed capture not yet fanned out: the fan-out's "anything new?" look,
 * one probe of the journal's key index (microseconds), made often while writers are busy.
 */
export async function capturesWaiting(db: Queryable): Promise<boolean> {
  const [r] = await rows<{ waiting: boolean }>(
    db,
    `SELECT EXISTS (SELECT 1 FROM sluice_capture_batch ORDER BY lsn LIMIT 1) AS waiting`,
  );
  return r.waiting;
}
