import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payload shared by every id of a call, passed once: sluice_enqueue and sluice_enqueue_route take
 * `p_payload jsonb` (default NULL) beside the per-id `p_payloads`. Before, a push of 1,000 ids with one
 * 7 MB payload sent (and built in Node) a 7 GB jsonb[] and killed the process. The shared payload is
 * referenced by each row's INSERT and never carried through the CTEs or the DISTINCT ON sort, so
 * Postgres holds it once per statement too. Same behaviour otherwise as 0002's version; a per-id
 * payload wins over the shared one.
 */
export const enqueueFunction = (shared: boolean) => `
CREATE FUNCTION sluice_enqueue(p_entity text, p_op text, p_source text, p_ids text[], p_payloads jsonb[], p_ticket uuid,
                               p_notify boolean DEFAULT true, p_route text DEFAULT NULL
                               ${shared ? ', p_payload jsonb DEFAULT NULL' : ''})
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_custom_plan AS $fn$
DECLARE n integer;
BEGIN
  WITH input AS (
    -- A record named twice in one call is one change: the last payload wins.
    SELECT DISTINCT ON (i.record_id) i.record_id, i.payload, i.ord
      FROM unnest(p_ids, p_payloads) WITH ORDINALITY AS i(record_id, payload, ord)
     WHERE i.record_id IS NOT NULL
     ORDER BY i.record_id, i.ord DESC
  ),
  logged AS (
    INSERT INTO event_log (event_id, entity, record_id, op, source, payload, ticket)
    SELECT gen_random_uuid(), p_entity, record_id, p_op, p_source, coalesce(payload, ${shared ? 'p_payload' : 'NULL'}), p_ticket
      FROM input ORDER BY ord
    -- Per-id payloads only: the shared one is referenced again below, not copied into each CTE row.
    RETURNING event_id, record_id, CASE WHEN p_payloads IS NOT NULL THEN payload END AS payload, occurred_at
  ),
  targets AS (
    SELECT l.event_id, l.record_id, l.payload, l.occurred_at, r.name AS route, r.coalesce
      FROM logged l
      -- p_route (a backfill) targets that one route whatever its match; otherwise fan out by match.
      JOIN sluice_route r ON r.enabled AND CASE WHEN p_route IS NULL
                                                THEN (r.entity = p_entity OR r.entity = '*') AND (r.ops IS NULL OR p_op = ANY (r.ops))
                                                ELSE r.name = p_route END
  ),
  newest AS (
    -- The newest live row of each (route, record), if any: the only row a change may merge into.
    SELECT t.*, (SELECT x.id FROM event_queue x
                  WHERE x.route = t.route AND x.entity = p_entity AND x.record_id = t.record_id
                    AND x.state IN ('pending', 'running')
                  ORDER BY x.id DESC LIMIT 1) AS live_id
      FROM targets t WHERE t.coalesce
  ),
  merged AS (
    -- Coalescing: fold the change into that row while it waits unclaimed, unless it is a delete and
    -- this is not (a delete is never merged away behind a later insert).
    UPDATE event_queue q
       SET event_id = t.event_id, op = p_op, source = p_source, payload = coalesce(t.payload, ${shared ? 'p_payload' : 'NULL'}),
           occurred_at = t.occurred_at, ticket = p_ticket, merged_count = q.merged_count + 1, updated_at = now()
      FROM newest t
     WHERE q.id = t.live_id AND q.state = 'pending' AND NOT (q.op = 'delete' AND p_op <> 'delete')
    RETURNING q.route, q.record_id
  ),
  inserted AS (
    INSERT INTO event_queue (event_id, route, entity, record_id, op, source, payload, occurred_at, ticket)
    SELECT t.event_id, t.route, p_entity, t.record_id, p_op, p_source, coalesce(t.payload, ${shared ? 'p_payload' : 'NULL'}), t.occurred_at, p_ticket
      FROM targets t
     WHERE NOT EXISTS (SELECT 1 FROM merged m WHERE m.route = t.route AND m.record_id = t.record_id)
    RETURNING 1
  )
  SELECT count(*) INTO n FROM logged;
  -- A latency hint only: the drain and relay also poll. Postgres serialises the commits of notifying
  -- transactions, so the API passes false and notifies after commit, coalesced (PeerNotifier).
  IF p_notify THEN
    PERFORM pg_notify('sluice', '');
  END IF;
  RETURN n;
END
$fn$`;

const enqueueRouteFunction = (shared: boolean) => `
CREATE FUNCTION sluice_enqueue_route(p_route text, p_entity text, p_op text, p_source text, p_ids text[],
                                     p_payloads jsonb[], p_ticket uuid${shared ? ', p_payload jsonb DEFAULT NULL' : ''})
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
BEGIN
  PERFORM 1 FROM sluice_route r WHERE r.name = p_route AND r.enabled;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'route "%" does not exist or is disabled', p_route USING ERRCODE = 'P0002';
  END IF;
  RETURN sluice_enqueue(p_entity, p_op, p_source, p_ids, p_payloads, p_ticket, true, p_route${shared ? ', p_payload' : ''});
END
$fn$`;

export class SharedPayload1000000000006 implements MigrationInterface {
  name = 'SharedPayload1000000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION sluice_enqueue_route(text, text, text, text, text[], jsonb[], uuid);
      DROP FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid, boolean, text);
    `);
    await q.query(enqueueFunction(true));
    await q.query(enqueueRouteFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION sluice_enqueue_route(text, text, text, text, text[], jsonb[], uuid, jsonb);
      DROP FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid, boolean, text, jsonb);
    `);
    await q.query(enqueueFunction(false));
    await q.query(enqueueRouteFunction(false));
  }
}
