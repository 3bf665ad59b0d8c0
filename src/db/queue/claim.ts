import { rows, type Queryable } from '../pool';
import type { ClaimedEvent } from './types';

/** What one claim may take from one route (the claim window's fairness policy decides it). */
export interface RouteQuota {
  route: string;
  /** At most this many rows of the route in this claim. */
  quota: number;
  /** The route's own priority is `bulk`: its rows go after every live row of other routes. */
  bulk: boolean;
}

export interface ClaimOptions {
  /** Rows in all, across routes. */
  limit: number;
  routes: RouteQuota[];
  /** This process's identity; claimed rows are locked to it. */
  holder: string;
  /** The lanes the caller believes it holds, and their terms: a lane whose term moved on claims nothing. */
  lanes: number[];
  terms: number[];
  /** How long a claim stays valid without a heartbeat, ms. */
  leaseMs: number;
}

/**
 * Claims up to `limit` due rows of the lanes the caller holds, shared among the routes (each route's oldest
 * live rows first, backfill rows after live ones, then round robin across routes), fenced by the lanes'
 * terms: only lanes whose lease row still names this holder at that term, unexpired, are read.
 *
 * Its cost is O(routes x quota) whatever the table's statistics say: each route's candidates come from
 * one LIMIT probe of event_queue_ready_idx, and each candidate's "is it its record's head?" check is a
 * LIMIT 1 probe of event_queue_key_idx (LATERAL + LIMIT cannot be flattened into an anti join, which is
 * what walked the whole index per row on stale statistics). A candidate behind an earlier *pending* row
 * of its record is marked `blocked` and leaves the ready index until that row is settled (settle.ts
 * unblocks it); one behind a *running* row is only skipped, since that row's settle may be committing now.
 * That check ignores lanes, so per-record order would hold even if two lanes held one record's rows.
 * One plan-dependence is left: on statistics that saw no pending rows every estimate is one row, and reading a
 * route's candidates through event_queue_key_idx and sorting them costs the planner the same as the ordered
 * ready-index probe; when it picks the former, a claim reads the route's pending rows (~100 ms at 100,000),
 * bounded and far under the statement timeout. (Pricing sorts out with enable_sort=off on the drain's sessions
 * settled the tie but made every claim 15-50x slower: the sorts no plan avoids then steer the rest of the plan.)
 * Its estimate does not grow with the table either: each route's probe is `LIMIT $9`, the largest quota, a
 * constant to the planner (node-postgres sends parameters, so each claim gets a custom plan), and a route's
 * own quota is applied after it (`nth <= quota`), before any head probe. (With `LIMIT r.quota`, a column,
 * the planner assumed a tenth of the ready rows and priced a head probe for each: ~780,000 on a 1,000,000-row
 * queue, past jit_above_cost, and each claim of 500 rows spent ~460 ms JIT-compiling for ~5 ms of work.
 * Sluice's sessions run with jit=off besides: schema-name.ts sessionOptions.)
 * The lane filter is applied to the candidates the ready-index probe reads: free with one instance (it
 * holds every lane), about N entries read per row claimed with N instances.
 * The two UPDATEs find their rows by primary key only: their state guard is written `NOT IN (running,
 * done, dead)` on purpose, since `state = 'pending'` would let the planner prefer a scan of a partial
 * index that stale statistics call tiny (it walked all 300k entries, 2 s per claim).
 * Its plan on 100k pending rows after an ANALYZE that saw none (EXPLAIN ANALYZE, 500 rows in ~50 ms):
 *
 *   Update on event_queue q
 *     CTE judged -> Nested Loop Left Join
 *       -> Nested Loop -> Function Scan on r (the routes)
 *            -> Limit -> Index Scan using event_queue_ready_idx  (route = r.route AND run_at <= now())
 *       -> Memoize -> Limit -> Index Scan using event_queue_key_idx  (route, entity, record_id = candidate's)
 *     CTE parked -> Update -> Index Scan using event_queue_pkey  (id = ANY (parked ids))
 *     InitPlan picked -> Limit -> Sort (bulk, rn, route) -> WindowAgg -> CTE Scan on judged
 *     -> Index Scan using event_queue_pkey  (id = ANY (picked ids))
 */
export async function claim(db: Queryable, o: ClaimOptions): Promise<ClaimedEvent[]> {
  if (o.routes.length === 0 || o.limit <= 0 || o.lanes.length === 0) return [];
  const quotas = o.routes.map((r) => Math.max(0, Math.floor(r.quota)));
  const result = await rows<ClaimedEvent>(
    db,
    `WITH held AS (
       SELECT l.lane FROM sluice_lane l
         JOIN unnest($3::int[], $8::bigint[]) AS h(lane, term) ON h.lane = l.lane AND h.term = l.term
        WHERE l.holder = $2 AND l.expires_at > now()
     ),
     cand AS (
       SELECT c.id, c.route, c.entity, c.record_id, c.run_at, (c.bulk OR r.bulk) AS bulk, r.quota,
              row_number() OVER (PARTITION BY r.route ORDER BY c.bulk, c.run_at, c.id) AS nth
         FROM unnest($5::text[], $6::int[], $7::bool[]) AS r(route, quota, bulk)
        CROSS JOIN LATERAL (
          SELECT q.id, q.route, q.entity, q.record_id, q.run_at, q.bulk FROM event_queue q
           WHERE q.route = r.route AND q.state = 'pending' AND NOT q.blocked AND q.run_at <= now()
             AND q.lane = ANY (ARRAY(SELECT lane FROM held))
           ORDER BY q.bulk, q.run_at, q.id
           LIMIT $9) c
        WHERE r.quota > 0
     ),
     judged AS (
       SELECT c.*, b.state AS blocker
         FROM cand c
         LEFT JOIN LATERAL (
           SELECT e.state FROM event_queue e
            WHERE e.route = c.route AND e.entity = c.entity AND e.record_id = c.record_id
              AND e.state IN ('pending', 'running') AND e.id <> c.id
              AND (e.state = 'running' OR e.id < c.id)
            ORDER BY e.state = 'pending' DESC
            LIMIT 1) b ON true
        WHERE c.nth <= c.quota
     ),
     picked AS (
       SELECT id FROM (
         SELECT j.id, j.route, j.bulk,
                row_number() OVER (PARTITION BY j.route, j.bulk ORDER BY j.run_at, j.id) AS rn
           FROM judged j WHERE j.blocker IS NULL) x
        ORDER BY bulk, rn, route
        LIMIT $1
     ),
     parked AS (
       UPDATE event_queue q SET blocked = true
        WHERE q.id = ANY (ARRAY(SELECT id FROM judged WHERE blocker = 'pending'))
          AND q.state NOT IN ('running', 'done', 'dead')
     )
     UPDATE event_queue q
        SET state = 'running', attempts = q.attempts + 1, locked_by = $2,
            locked_until = now() + make_interval(secs => $4::float8 / 1000), updated_at = now()
      WHERE q.id = ANY (ARRAY(SELECT id FROM picked)) AND q.state NOT IN ('running', 'done', 'dead')
     RETURNING q.id, q.event_id AS "eventId", q.route, q.entity, q.record_id AS "recordId", q.op, q.source,
               q.payload, q.occurred_at AS "occurredAt", q.attempts, q.merged_count AS "mergedCount", q.lane`,
    [
      o.limit,
      o.holder,
      o.lanes,
      o.leaseMs,
      o.routes.map((r) => r.route),
      quotas,
      o.routes.map((r) => r.bulk),
      o.terms,
      Math.max(0, ...quotas),
    ],
  );
  // The rows come back in ClaimedEvent's shape (the RETURNING list names them), used as they are: no copy
  // of each row. In id order: ids are bigint text without leading zeros, so the shorter is the smaller, and
  // of equal length the lexically smaller (no Number() per comparison, exact past 2^53).
  return result.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
