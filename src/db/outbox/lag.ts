import { rows, type Queryable } from '../pool';

export interface RelayLag {
  unpublished: number;
  oldestUnpublishedAgeMs: number | null;
}

export async function relayLag(db: Queryable): Promise<RelayLag> {
  const [r] = await rows<{ n: string; age_ms: number | null }>(
    db,
    `SELECT count(*) AS n, (extract(epoch FROM now() - min(occurred_at)) * 1000)::float8 AS age_ms
       FROM event_log WHERE published_at IS NULL`,
  );
  return { unpublished: Number(r.n), oldestUnpublishedAgeMs: r.age_ms };
}
