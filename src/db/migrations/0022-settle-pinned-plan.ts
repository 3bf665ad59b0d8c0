import type { MigrationInterface, QueryRunner } from 'typeorm';

const ARGS = `p_holder text,
  p_done_ids bigint[], p_done_statuses int[], p_done_started_ms float8[], p_done_duration_ms int[], p_done_body_at int[],
  p_fail_ids bigint[], p_fail_dead bool[], p_fail_run_at timestamptz[], p_fail_errors text[], p_fail_statuses int[],
  p_fail_responses text[], p_fail_refunds bool[], p_fail_started_ms float8[], p_fail_duration_ms int[],
  p_fail_error_codes text[],
  p_log bool, p_bodies text[],
  p_health_routes text[], p_health_ok bool[], p_health_fail_from timestamptz[]`;

/** The function's identity for DROP: ARGS without the names. */
const SIGNATURE = `sluice_settle(${ARGS.split(',')
  .map((a) => a.trim().split(/\s+/)[1])
  .join(', ')})`;

/**
 * The settle (issue #12) as a function whose plan cannot depend on the table's statistics: one statement, one
 * transaction, that marks delivered rows done and failed ones pending again at their retry time or dead, logs
 * each attempt (`sluice_attempt`, when p_log, for the rows it has a start time for), moves the routes' failure
 * clocks (`sluice_route_health`) and, for every record whose row just ended (done or dead), unblocks its next
 * row if the claim parked it (claim.ts). A row no longer running under `p_holder` (handed back meanwhile)
 * settles nothing and logs nothing. Returns the number of rows settled.
 * The failure clock is written only when it changes: a failure starts it if it is not running, a success stops
 * it (or restarts it at a failure that came after the success). The unblock probe reads the statement's
 * snapshot, where the rows just settled still look running: they are left out by id, so the probe finds each
 * record's next live row. A later change of this statement is a new migration (CREATE OR REPLACE).
 *
 * Why a function. As a prepared statement its plans followed the statistics: where they were taken while every
 * row was done (drain-stale-stats: 600,000 done rows analyzed, then 300,000 pending), the guard
 * `state = 'running'` implied the predicate of event_queue_key_idx (state IN ('pending', 'running')), thought
 * empty, and the generic plan read the flush's rows from a walk of that whole index: 298,000 entries, ~100 ms
 * per flush of 500, growing with the backlog. Found by primary key instead (`state NOT IN (...)`), a custom
 * plan on statistics that saw no row running compared each row with every id of the flush (~560 ms for 2,000
 * rows); and a plan made while the table held a few rows (a fresh install's first flush) scanned the whole
 * primary key, and the session kept it as the table grew. settle-plans.test.ts has each of these.
 *
 * So the plan here is one shape, made once per session (force_generic_plan, jit off):
 * - the rows are read by `q.id = ANY (ids)`, a primary-key probe per id, and hash-joined to the flush's
 *   columns. Sequential scans and nested loops are off: with either allowed, a plan made on small or stale
 *   estimates (10 rows on each side) compares every row with every id, or reads the table once per row.
 * - the guard compares the state to a variable, so no partial index's predicate follows from it: no plan
 *   can walk event_queue_key_idx or event_queue_lease_idx for these rows. The holder is compared with
 *   IS NOT DISTINCT FROM (p_holder is never null), which unlike `=` does not imply `locked_by IS NOT NULL`:
 *   the index of held rows (0023) would otherwise read all of this holder's rows in flight for each flush.
 * - the guard is on the updated row, joined by id: when a heartbeat (or a handback) updated the row after the
 *   statement's snapshot, Postgres rechecks the guard on the newest version (EvalPlanQual) and settles the row
 *   if it is still ours and running. (Taking the row by ctid, from a per-row LATERAL probe, fixed the plan
 *   too, but a TID scan's recheck fails on the newer version: a row a heartbeat touched went unsettled.)
 * - the attempt log takes its per-row columns in the same unnest as the rows' outcomes (the caller aligns
 *   them), so there is no join left whose method an estimate could turn quadratic.
 * - the unblock probe (only when some row is parked) orders by event_queue_key_idx's own columns: only that
 *   index, probed by the record's key, returns them in that order without a sort; ordered by id alone, a plan
 *   could walk the primary key until it met the record. Its update takes the rows by `id = ANY` as well.
 *
 * The plan of the delivered rows' UPDATE (2,000 rows, drain-stale-stats' 900,000-row queue, ~20 ms with the
 * attempt log; the statement it replaces took ~100 ms for 500 rows there):
 *   Update on event_queue q
 *     -> Hash Join  Hash Cond: (q.id = f.id)
 *          -> Index Scan using event_queue_pkey on event_queue q  Index Cond: (id = ANY (p_done_ids))
 *               Filter: ((state = v_running) AND (locked_by = p_holder))
 *          -> Hash -> Function Scan on f                              (the flush's columns)
 */
const SETTLE = `
CREATE OR REPLACE FUNCTION sluice_settle(${ARGS})
RETURNS integer LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
SET enable_nestloop = off SET jit = off AS $fn$
DECLARE
  v_running constant text := 'running';
  n integer;
BEGIN
  WITH done AS (
    UPDATE event_queue q
       SET state = 'done', done_at = now(), updated_at = now(), locked_by = NULL, locked_until = NULL,
           last_status = f.status, last_error = NULL
      FROM unnest(p_done_ids, p_done_statuses, p_done_started_ms, p_done_duration_ms, p_done_body_at)
           AS f(id, status, started_ms, duration_ms, body_at)
     WHERE q.id = f.id AND q.id = ANY (p_done_ids) AND q.state = v_running AND q.locked_by IS NOT DISTINCT FROM p_holder
    RETURNING q.id, q.route, q.entity, q.record_id, q.event_id, q.attempts, f.status, f.started_ms,
              f.duration_ms, f.body_at
  ),
  failed AS (
    UPDATE event_queue q
       SET state = CASE WHEN f.dead THEN 'dead' ELSE 'pending' END,
           run_at = f.run_at, last_error = f.error, last_status = f.status, last_response = f.response,
           attempts = q.attempts - CASE WHEN f.refund THEN 1 ELSE 0 END,
           locked_by = NULL, locked_until = NULL, updated_at = now(),
           done_at = CASE WHEN f.dead THEN now() ELSE NULL END
      FROM unnest(p_fail_ids, p_fail_dead, p_fail_run_at, p_fail_errors, p_fail_statuses, p_fail_responses,
                  p_fail_refunds, p_fail_started_ms, p_fail_duration_ms, p_fail_error_codes)
           AS f(id, dead, run_at, error, status, response, refund, started_ms, duration_ms, error_code)
     WHERE q.id = f.id AND q.id = ANY (p_fail_ids) AND q.state = v_running AND q.locked_by IS NOT DISTINCT FROM p_holder
    RETURNING q.id, q.route, q.entity, q.record_id, f.dead, q.event_id, q.attempts, f.refund, f.status,
              f.error, f.response, f.started_ms, f.duration_ms, f.error_code
  ),
  ended AS (
    SELECT id, route, entity, record_id FROM done
    UNION ALL SELECT id, route, entity, record_id FROM failed WHERE dead
  ),
  unblocked AS (
    UPDATE event_queue q SET blocked = false
     WHERE q.id = ANY (ARRAY(
             SELECT nx.id
               FROM (SELECT DISTINCT route, entity, record_id FROM ended) k
              CROSS JOIN LATERAL (
                SELECT e.id, e.blocked FROM event_queue e
                 WHERE e.route = k.route AND e.entity = k.entity AND e.record_id = k.record_id
                   AND e.state IN ('pending', 'running')
                   AND e.id <> ALL (ARRAY(SELECT id FROM ended))
                 ORDER BY e.route, e.entity, e.record_id, e.id
                 LIMIT 1) nx
              WHERE nx.blocked))
       -- Nothing parked anywhere (the usual case): no probe at all (event_queue_blocked_idx is empty).
       AND EXISTS (SELECT 1 FROM event_queue p WHERE p.state = 'pending' AND p.blocked)
  ),
  logged AS (
    INSERT INTO sluice_attempt (queue_id, event_id, route, entity, record_id, attempt, started_at,
                                duration_ms, outcome, http_status, error_code, error, response)
    SELECT s.id, s.event_id, s.route, s.entity, s.record_id, s.attempt, to_timestamp(s.started_ms / 1000.0),
           s.duration_ms, s.outcome, s.status, s.error_code, s.error, s.response
      FROM (SELECT id, event_id, route, entity, record_id, attempts AS attempt, 'succeeded' AS outcome, status,
                   NULL::text AS error_code, NULL::text AS error, p_bodies[body_at] AS response,
                   started_ms, duration_ms
              FROM done
            UNION ALL
            SELECT id, event_id, route, entity, record_id, attempts + CASE WHEN refund THEN 1 ELSE 0 END,
                   CASE WHEN refund THEN 'deferred' WHEN dead THEN 'dead' ELSE 'failed' END,
                   status, error_code, error, response, started_ms, duration_ms
              FROM failed) s
     WHERE p_log AND s.started_ms IS NOT NULL
  ),
  recovered AS (
    UPDATE sluice_route_health h SET failing_since = t.fail_from, updated_at = now()
      FROM unnest(p_health_routes, p_health_ok, p_health_fail_from) AS t(route, ok, fail_from)
     WHERE t.ok AND h.route = t.route AND h.failing_since IS DISTINCT FROM t.fail_from
  ),
  failing AS (
    INSERT INTO sluice_route_health AS h (route, failing_since)
    SELECT t.route, t.fail_from
      FROM unnest(p_health_routes, p_health_ok, p_health_fail_from) AS t(route, ok, fail_from)
     WHERE NOT t.ok
    ON CONFLICT (route) DO UPDATE SET failing_since = excluded.failing_since, updated_at = now()
     WHERE h.failing_since IS NULL
  )
  SELECT (SELECT count(*) FROM done) + (SELECT count(*) FROM failed) INTO n;
  RETURN n;
END
$fn$`;

export class SettlePinnedPlan1000000000022 implements MigrationInterface {
  name = 'SettlePinnedPlan1000000000022';

  async up(q: QueryRunner): Promise<void> {
    await q.query(SETTLE);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS ${SIGNATURE}`);
  }
}
