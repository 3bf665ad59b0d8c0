import { rows, type Queryable } from '../pool';

export interface QueueCounts {
  byState: Record<'pending' | 'running' | 'done' | 'dead', number>;
  byRoute: Record<string, Record<string, number>>;
  oldestPendingAgeMs: number | null;
}

export async function queueCounts(db: Queryable): Promise<QueueCounts> {
  const [counts, oldest] = await Promise.all([
    rows<{ route: string; state: string; n: string }>(
      db,
      `SELECT route, state, count(*) AS n FROM event_queue GROUP BY route, state`,
    ),
    rows<{ age_ms: number | null }>(
      db,
      `SELECT (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS age_ms
         FROM event_queue WHERE state = 'pending'`,
    ),
  ]);
  const byState = { pending: 0, running: 0, done: 0, dead: 0 };
  const byRoute: QueueCounts['byRoute'] = {};
  for (const c of counts) {
    const n = Number(c.n);
    byState[c.state as keyof typeof byState] += n;
    (byRoute[c.route] ??= {})[c.state] = n;
  }
  return { byState, byRoute, oldestPendingAgeMs: oldest[0]?.age_ms ?? null };
}

export interface TicketCounts {
  accepted: number;
  published: number;
  deliveries: Record<string, number>;
}

/** What became of one push: changes logged, published to Kafka, and its deliveries by state. */
export async function ticketCounts(db: Queryable, ticket: string): Promise<TicketCounts | null> {
  const [logged, deliveries] = await Promise.all([
    rows<{ accepted: string; published: string }>(
      db,
      `SELECT count(*) AS accepted, count(published_at) AS published FROM event_log WHERE ticket = $1`,
      [ticket],
    ),
    rows<{ state: string; n: string }>(
      db,
      `SELECT state, count(*) AS n FROM event_queue WHERE ticket = $1 GROUP BY state`,
      [ticket],
    ),
  ]);
  const accepted = Number(logged[0].accepted);
  if (accepted === 0) return null;
  const byState: Record<string, number> = { pending: 0, running: 0, done: 0, dead: 0 };
  for (const d of deliveries) byState[d.state] = Number(d.n);
  return { accepted, published: Number(logged[0].published), deliveries: byState };
}
