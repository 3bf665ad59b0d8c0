import { arrayParam, type Queryable } from '../pool';

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

export interface SettleRows {
  /** Delivered rows and the HTTP status each got. */
  done: { ids: string[]; statuses: number[] };
  failures: Failure[];
  /** The attempt log's rows (drain/attempt-rows.ts); absent: the log is off. */
  attempts?: AttemptRows | null;
  /** What the settle tells each route's failure clock (drain/attempt-rows.ts); absent: nothing. */
  health?: HealthRows | null;
}

/**
 * What only the drain knows of each settled row's attempt, columnar (one `unnest`); the rest (event,
 * route, record, attempt number, outcome, status, error, failure response) the statement takes from the
 * rows it settles, so the log costs few parameters.
 */
export interface AttemptRows {
  queueIds: string[];
  /** When the request went out, ms epoch. */
  startedMs: number[];
  durationMs: number[];
  errorCodes: Array<string | null>;
  /** A 2xx response's body excerpt (failures' excerpts are already in `Failure.response`). */
  bodies: Array<string | null>;
}

/** Per route: an attempt succeeded (`ok`), and the first failure after the last success (or null). */
export interface HealthRows {
  routes: string[];
  ok: boolean[];
  failFrom: Array<Date | null>;
}

/**
 * The attempt log (`sluice_attempt`) and the failure clock (`sluice_route_health`) as CTEs of the settle
 * statement: no round trip of their own. A row no longer locked to us (handed back meanwhile) settles
 * nothing, and its attempt is not logged either. The clock is written only when it changes: a failure starts it
 * if it is not running, a success stops it (or restarts it at a failure that came after the success).
 */
const ATTEMPTS_CTE = `,
     logged AS (
       INSERT INTO sluice_attempt (queue_id, event_id, route, entity, record_id, attempt, started_at,
                                   duration_ms, outcome, http_status, error_code, error, response)
       SELECT s.id, s.event_id, s.route, s.entity, s.record_id, s.attempt,
              to_timestamp(a.started_ms / 1000.0), a.duration_ms, s.outcome, s.status, a.error_code, s.error,
              coalesce(s.response, ($16::text[])[a.body_at])
         FROM (SELECT id, event_id, route, entity, record_id, attempts AS attempt, 'succeeded' AS outcome,
                      status, NULL::text AS error, NULL::text AS response
                 FROM done
               UNION ALL
               SELECT id, event_id, route, entity, record_id, attempts + CASE WHEN refund THEN 1 ELSE 0 END,
                      CASE WHEN refund THEN 'deferred' WHEN dead THEN 'dead' ELSE 'failed' END,
                      status, error, response
                 FROM failed) s
         JOIN unnest($11::bigint[], $12::float8[], $13::int[], $14::text[], $15::int[])
              AS a(id, started_ms, duration_ms, error_code, body_at) ON a.id = s.id
     )`;
const healthCte = (at: number) => `,
     recovered AS (
       UPDATE sluice_route_health h SET failing_since = t.fail_from, updated_at = now()
         FROM unnest($${at}::text[], $${at + 1}::bool[], $${at + 2}::timestamptz[]) AS t(route, ok, fail_from)
        WHERE t.ok AND h.route = t.route AND h.failing_since IS DISTINCT FROM t.fail_from
     ),
     failing AS (
       INSERT INTO sluice_route_health AS h (route, failing_since)
       SELECT t.route, t.fail_from
         FROM unnest($${at}::text[], $${at + 1}::bool[], $${at + 2}::timestamptz[]) AS t(route, ok, fail_from)
        WHERE NOT t.ok
       ON CONFLICT (route) DO UPDATE SET failing_since = excluded.failing_since, updated_at = now()
        WHERE h.failing_since IS NULL
     )`;

/**
 * The bodies as each distinct text once and, per row, its 1-based position in that list (null: no body).
 * The events of one composite request share its excerpt (up to 512 characters for up to 200 rows): sent
 * once instead of once per row, that parameter shrinks ~200x for such a route.
 */
export function distinctBodies(bodies: Array<string | null>): { at: Array<number | null>; texts: string[] } {
  const index = new Map<string, number>();
  const texts: string[] = [];
  const at = bodies.map((b) => {
    if (b === null) return null;
    let i = index.get(b);
    if (i === undefined) index.set(b, (i = texts.push(b)));
    return i;
  });
  return { at, texts };
}

/**
 * Writes a settle in one statement (so one transaction): delivered rows done, failed ones back to
 * pending at their retry time or dead, each attempt into the log and the routes' failure clocks, and,
 * for every record whose row just ended (done or dead), its next row unblocked if the claim had parked it
 * (see claim.ts). Rows no longer locked to `holder` (handed
 * back meanwhile) are left alone. The unblock probe reads the statement's snapshot, where the rows just
 * settled still look running: they are left out by id, so the probe finds each record's next live row.
 */
export async function settleRows(db: Queryable, holder: string, s: SettleRows): Promise<number> {
  const { done, failures, attempts, health } = s;
  if (done.ids.length === 0 && failures.length === 0) return 0;
  // Arrays go as Postgres array text (arrayParam, what pg would send, built for less); dates are left to pg.
  const params: unknown[] = [
    holder,
    arrayParam(done.ids),
    arrayParam(done.statuses),
    arrayParam(failures.map((f) => f.id)),
    arrayParam(failures.map((f) => f.dead)),
    failures.map((f) => f.runAt),
    arrayParam(failures.map((f) => f.error.slice(0, 2000))),
    arrayParam(failures.map((f) => f.status)),
    arrayParam(failures.map((f) => f.response)),
    arrayParam(failures.map((f) => f.refundAttempt ?? false)),
  ];
  let extra = '';
  /** Which optional parts the text has: each variant is a prepared statement of its own. */
  let variant = '';
  if (attempts?.queueIds.length) {
    extra += ATTEMPTS_CTE;
    variant += 'a';
    const a = attempts;
    const { at, texts } = distinctBodies(a.bodies);
    params.push(
      arrayParam(a.queueIds),
      arrayParam(a.startedMs),
      arrayParam(a.durationMs),
      arrayParam(a.errorCodes),
      arrayParam(at),
      arrayParam(texts),
    );
  }
  if (health?.routes.length) {
    extra += healthCte(params.length + 1);
    variant += 'h';
    params.push(arrayParam(health.routes), arrayParam(health.ok), health.failFrom);
  }
  const res = await db.query<{ n: string }>({
    // Prepared once per connection (a name per variant of the text): parsing and planning this statement
    // cost Postgres ~1 ms a settle, ~10 us per event at 100 rows a flush. Its plans hash-join the flush to the
    // running rows (settle-plans.test.ts). Written to find them by primary key instead (`state NOT IN (...)`),
    // a custom plan on statistics that saw no row running took them from a sequential scan and compared each
    // with every id: 2,000 rows in ~560 ms. Not yet plan-proof: on such statistics the generic plan may reach
    // them through event_queue_key_idx, a walk of the whole backlog per flush (README, "A settle planned once").
    name: variant ? `sluice_settle_${variant}` : 'sluice_settle',
    text: `WITH done AS (
       UPDATE event_queue q
          SET state = 'done', done_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL,
              last_status = f.status, last_error = NULL
         FROM unnest($2::bigint[], $3::int[]) AS f(id, status)
        WHERE q.id = f.id AND q.state = 'running' AND q.locked_by = $1
       RETURNING q.id, q.route, q.entity, q.record_id, q.event_id, q.attempts, f.status
     ),
     failed AS (
       UPDATE event_queue q
          SET state = CASE WHEN f.dead THEN 'dead' ELSE 'pending' END,
              run_at = f.run_at, last_error = f.error, last_status = f.status, last_response = f.response,
              attempts = q.attempts - CASE WHEN f.refund THEN 1 ELSE 0 END,
              locked_by = NULL, locked_until = NULL, updated_at = now(),
              done_at = CASE WHEN f.dead THEN now() ELSE NULL END
         FROM unnest($4::bigint[], $5::bool[], $6::timestamptz[], $7::text[], $8::int[], $9::text[], $10::bool[])
              AS f(id, dead, run_at, error, status, response, refund)
        WHERE q.id = f.id AND q.state = 'running' AND q.locked_by = $1
       RETURNING q.id, q.route, q.entity, q.record_id, f.dead, q.event_id, q.attempts, f.refund, f.status,
                 f.error, f.response
     ),
     ended AS (
       SELECT id, route, entity, record_id FROM done
       UNION ALL SELECT id, route, entity, record_id FROM failed WHERE dead
     ),
     unblocked AS (
       UPDATE event_queue q SET blocked = false
         FROM (SELECT DISTINCT route, entity, record_id FROM ended) k
        CROSS JOIN LATERAL (
          SELECT e.id, e.blocked FROM event_queue e
           WHERE e.route = k.route AND e.entity = k.entity AND e.record_id = k.record_id
             AND e.state IN ('pending', 'running')
             AND e.id <> ALL (ARRAY(SELECT id FROM ended))
           ORDER BY e.id
           LIMIT 1) nx
        WHERE q.id = nx.id AND nx.blocked
          -- Nothing parked anywhere (the usual case): no probe at all (event_queue_blocked_idx is empty).
          AND EXISTS (SELECT 1 FROM event_queue p WHERE p.state = 'pending' AND p.blocked)
     )${extra}
     SELECT (SELECT count(*) FROM done) + (SELECT count(*) FROM failed) AS n`,
    values: params,
  });
  return Number(res.rows[0].n);
}

/**
 * Unblocks parked rows whose record has no earlier live row: the repair a new leader runs once, in case
 * a row was parked behind one that left the queue by another way than a settle (an operator's delete).
 * Bounded per call; the oldest parked rows first.
 */
export async function unblockOrphans(db: Queryable, limit = 5000): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue q SET blocked = false
       FROM (SELECT b.id FROM event_queue b
              WHERE b.state = 'pending' AND b.blocked
                AND NOT EXISTS (SELECT 1 FROM event_queue e
                                 WHERE e.route = b.route AND e.entity = b.entity AND e.record_id = b.record_id
                                   AND e.state IN ('pending', 'running') AND e.id < b.id)
              ORDER BY b.id LIMIT $1) o
      WHERE q.id = o.id`,
    [limit],
  );
  return res.rowCount ?? 0;
}
