import { rows, type Queryable } from '../pool';
import type { ClaimedEvent } from './types';

export interface ClaimOptions {
  limit: number;
  /** This process's identity; claimed rows are locked to it. */
  holder: string;
  /** The leader term the caller believes it holds; a stale term claims nothing. */
  term: number;
  /** How long a claim stays valid without a heartbeat, ms. */
  leaseMs: number;
  /** Routes not to claim for now (paused, or outside their delivery window): their rows wait, no attempt spent. */
  closedRoutes?: string[];
}

interface Row {
  id: string;
  event_id: string;
  route: string;
  entity: string;
  record_id: string;
  op: ClaimedEvent['op'];
  source: string;
  payload: unknown;
  occurred_at: Date;
  attempts: number;
  merged_count: number;
}

/**
 * Claims up to `limit` due rows, oldest first, skipping rows locked by anyone else. A row is only a
 * candidate when no earlier live row of the same (route, entity, record) exists and none is running,
 * so one record's changes go out in commit order and never two at once. The leader check makes a
 * process that lost its lease claim nothing.
 */
export async function claim(db: Queryable, o: ClaimOptions): Promise<ClaimedEvent[]> {
  const result = await rows<Row>(
    db,
    `WITH next AS (
       SELECT q.id FROM event_queue q
        WHERE q.state = 'pending' AND q.run_at <= now() AND ($5::text[] IS NULL OR q.route <> ALL($5::text[]))
          AND EXISTS (SELECT 1 FROM sluice_leader l
                       WHERE l.name = 'drain' AND l.holder = $2 AND l.term = $3 AND l.expires_at > now())
          AND NOT EXISTS (
            SELECT 1 FROM event_queue e
             WHERE e.route = q.route AND e.entity = q.entity AND e.record_id = q.record_id AND e.id <> q.id
               AND (e.state = 'running' OR (e.state = 'pending' AND e.id < q.id)))
        ORDER BY q.run_at, q.id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE event_queue q
        SET state = 'running', attempts = q.attempts + 1, locked_by = $2,
            locked_until = now() + make_interval(secs => $4::float8 / 1000), updated_at = now()
       FROM next WHERE q.id = next.id
     RETURNING q.id, q.event_id, q.route, q.entity, q.record_id, q.op, q.source, q.payload, q.occurred_at,
               q.attempts, q.merged_count`,
    [o.limit, o.holder, o.term, o.leaseMs, o.closedRoutes?.length ? o.closedRoutes : null],
  );
  result.sort((a, b) => Number(a.id) - Number(b.id));
  return result.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    route: r.route,
    entity: r.entity,
    recordId: r.record_id,
    op: r.op,
    source: r.source,
    payload: r.payload,
    occurredAt: r.occurred_at,
    attempts: r.attempts,
    mergedCount: r.merged_count,
  }));
}
