import { rows, type Queryable } from '../pool';

export interface OutboxRow {
  id: string;
  event_id: string;
  entity: string;
  record_id: string;
  op: string;
  source: string;
  payload: unknown;
  occurred_at: Date;
}

/**
 * The oldest unpublished changes, in commit (id) order, so per-key order survives into Kafka; with
 * `afterId`, only those after it (the relay's next batch while the previous one is being marked).
 */
export async function fetchUnpublished(
  db: Queryable,
  limit: number,
  afterId: string | null = null,
): Promise<OutboxRow[]> {
  return rows<OutboxRow>(
    db,
    `SELECT id, event_id, entity, record_id, op, source, payload, occurred_at
       FROM event_log WHERE published_at IS NULL AND id > $2 ORDER BY id LIMIT $1`,
    [limit, afterId ?? '0'],
  );
}
