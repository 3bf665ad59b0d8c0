import type { Queryable } from '../pool';

/**
 * Deletes up to `limit` done queue rows settled more than `olderThanMs` ago. Dead letters are kept
 * (they wait for a person). One small statement, so it never holds locks the drain needs for long.
 */
export async function pruneDone(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM event_queue WHERE id IN (
       SELECT id FROM event_queue
        WHERE state = 'done' AND done_at < now() - make_interval(secs => $1::float8 / 1000)
        LIMIT $2
        FOR UPDATE SKIP LOCKED)`,
    [olderThanMs, limit],
  );
  return res.rowCount ?? 0;
}

/** Deletes up to `limit` change-log rows published to Kafka more than `olderThanMs` ago. */
export async function prunePublished(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM event_log WHERE id IN (
       SELECT id FROM event_log
        WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1::float8 / 1000)
        LIMIT $2
        FOR UPDATE SKIP LOCKED)`,
    [olderThanMs, limit],
  );
  return res.rowCount ?? 0;
}

/**
 * Deletes attempt log rows older than `olderThanMs`, at most `limit`, taken from the oldest by id (the
 * log is appended in time order, so no index on the time is needed): a batch that deletes fewer than
 * `limit` reached the young rows, and the run ends there.
 */
export async function pruneAttempts(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM sluice_attempt WHERE id IN (
       SELECT id FROM (SELECT id, started_at FROM sluice_attempt ORDER BY id LIMIT $2) oldest
        WHERE started_at < now() - make_interval(secs => $1::float8 / 1000))`,
    [olderThanMs, limit],
  );
  return res.rowCount ?? 0;
}
