import { rows, type Queryable } from '../pool';

/** What an attempt came to, as the attempt log and its filters name it. */
export const ATTEMPT_OUTCOMES = ['succeeded', 'failed', 'dead', 'deferred'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One delivery attempt as the API, the CLI and the dashboard show it. */
export interface Attempt {
  id: string;
  eventId: string;
  route: string;
  entity: string;
  recordId: string;
  /** The row's attempt number (a deferred attempt is given back: the next one has the same number). */
  attempt: number;
  startedAt: string;
  durationMs: number;
  /** succeeded, failed (retried later), dead (failed, became a dead letter), deferred (not sent). */
  outcome: AttemptOutcome;
  /** Not sent: the breaker was open (or the route not configured here); the attempt was not spent. */
  deferred: boolean;
  httpStatus: number | null;
  /** Transport error code (ECONNREFUSED, ETIMEDOUT...), breaker_open, probe_failed, connector, error. */
  errorCode: string | null;
  error: string | null;
  /** The first 512 characters of the response body. */
  response: string | null;
}

/** The `status` filter: an outcome, or `failed` for every failed attempt (dead ones included). */
export const STATUS_FILTERS = ['succeeded', 'failed', 'dead', 'deferred'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface AttemptFilter {
  route?: string;
  entity?: string;
  recordId?: string;
  eventId?: string;
  status?: StatusFilter;
  /** Only attempts started at or after this time. */
  since?: Date;
  /** Only attempts older than this log id (the cursor's position). */
  beforeId?: string;
  limit: number;
}

interface Row {
  id: string;
  event_id: string;
  route: string;
  entity: string;
  record_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  outcome: AttemptOutcome;
  http_status: number | null;
  error_code: string | null;
  error: string | null;
  response: string | null;
}

const COLUMNS = `id, event_id, route, entity, record_id, attempt, started_at, duration_ms, outcome, http_status,
                 error_code, error, response`;

const toAttempt = (r: Row): Attempt => ({
  id: r.id,
  eventId: r.event_id,
  route: r.route,
  entity: r.entity,
  recordId: r.record_id,
  attempt: r.attempt,
  startedAt: r.started_at.toISOString(),
  durationMs: r.duration_ms,
  outcome: r.outcome,
  deferred: r.outcome === 'deferred',
  httpStatus: r.http_status,
  errorCode: r.error_code,
  error: r.error,
  response: r.response,
});

/**
 * Attempts, newest first, one page: up to `limit` and whether more follow (then `lastId` is where the
 * next page starts). Filters are bound parameters, never spliced into the SQL.
 */
export async function listAttempts(
  db: Queryable,
  f: AttemptFilter,
): Promise<{ items: Attempt[]; more: boolean }> {
  const outcomes = f.status === 'failed' ? ['failed', 'dead'] : f.status ? [f.status] : null;
  const result = await rows<Row>(
    db,
    `SELECT ${COLUMNS} FROM sluice_attempt
      WHERE ($1::text IS NULL OR route = $1) AND ($2::text IS NULL OR entity = $2)
        AND ($3::text IS NULL OR record_id = $3) AND ($4::uuid IS NULL OR event_id = $4)
        AND ($5::text[] IS NULL OR outcome = ANY($5)) AND ($6::timestamptz IS NULL OR started_at >= $6)
        AND ($7::bigint IS NULL OR id < $7)
      ORDER BY id DESC
      LIMIT $8`,
    [
      f.route ?? null,
      f.entity ?? null,
      f.recordId ?? null,
      f.eventId ?? null,
      outcomes,
      f.since ?? null,
      f.beforeId ?? null,
      f.limit + 1,
    ],
  );
  const more = result.length > f.limit;
  return { items: result.slice(0, f.limit).map(toAttempt), more };
}

/** Every attempt of one event (all its routes), oldest first: its delivery history. */
export async function eventAttempts(db: Queryable, eventId: string, limit = 1000): Promise<Attempt[]> {
  const result = await rows<Row>(
    db,
    `SELECT ${COLUMNS} FROM sluice_attempt WHERE event_id = $1 ORDER BY id LIMIT $2`,
    [eventId, limit],
  );
  return result.map(toAttempt);
}

/** The opaque cursor of the page after `lastId`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`a:${lastId}`).toString('base64url');
}

/** A cursor back to the log id it stands for; null when it is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  const m = /^a:([1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? m[1] : null;
}
