import { rows, type Queryable } from '../pool';

export interface DeadLetter {
  id: string;
  eventId: string;
  route: string;
  entity: string;
  recordId: string;
  op: string;
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
  lastResponse: string | null;
  deadAt: string;
}

export interface DeadFilter {
  route?: string;
  /** Only rows that died at or after this time. */
  since?: Date;
  limit: number;
}

interface Row {
  id: string;
  event_id: string;
  route: string;
  entity: string;
  record_id: string;
  op: string;
  attempts: number;
  last_error: string | null;
  last_status: number | null;
  last_response: string | null;
  done_at: Date;
}

/** Dead letters, newest first. Filters are bound parameters, never spliced into the SQL. */
export async function listDead(db: Queryable, f: DeadFilter): Promise<DeadLetter[]> {
  const result = await rows<Row>(
    db,
    `SELECT id, event_id, route, entity, record_id, op, attempts, last_error, last_status, last_response, done_at
       FROM event_queue
      WHERE state = 'dead' AND ($1::text IS NULL OR route = $1) AND ($2::timestamptz IS NULL OR done_at >= $2)
      ORDER BY done_at DESC, id DESC
      LIMIT $3`,
    [f.route ?? null, f.since ?? null, f.limit],
  );
  return result.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    route: r.route,
    entity: r.entity,
    recordId: r.record_id,
    op: r.op,
    attempts: r.attempts,
    lastError: r.last_error,
    lastStatus: r.last_status,
    lastResponse: r.last_response,
    deadAt: (r.done_at ?? new Date(0)).toISOString(),
  }));
}
