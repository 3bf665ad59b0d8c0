import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enqueueFunction } from './0006-shared-payload';

/**
 * Per-id tickets for group commit: sluice_enqueue takes `p_tickets uuid[]` (default NULL) beside
 * `p_ticket`, as it takes per-id payloads beside the shared one; a per-id ticket wins. Small pushes and
 * webhooks that arrive together then go into one call (capture/group-commit.ts), each id keeping its
 * own request's ticket, instead of one call per request: the call's planning and setup, not its rows,
 * were most of what a single-id request cost. Same behaviour otherwise as 0006's version.
 */
export const ENQUEUE_TICKETS = `
CREATE FUNCTION sluice_enqueue(p_entity text, p_op text, p_source text, p_ids text[], p_payloads jsonb[], p_ticket uuid,
                               p_notify boolean DEFAULT true, p_route text DEFAULT NULL, p_payload jsonb DEFAULT NULL,
                               p_tickets uuid[] DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_custom_plan AS $fn$
DECLARE n integer;
BEGIN
  WITH input AS (
    -- A record named twice in one call is one change: the last payload (and ticket) wins.
    SELECT DISTINCT ON (i.record_id) i.record_id, i.payload, coalesce(i.ticket, p_ticket) AS ticket, i.ord
      FROM unnest(p_ids, p_payloads, p_tickets) WITH ORDINALITY AS i(record_id, payload, ticket, ord)
     WHERE i.record_id IS NOT NULL
     ORDER BY i.record_id, i.ord DESC
  ),
  logged AS (
    INSERT INTO event_log (event_id, entity, record_id, op, source, payload, ticket)
    SELECT gen_random_uuid(), p_entity, record_id, p_op, p_source, coalesce(payload, p_payload), ticket
      FROM input ORDER BY ord
    -- Per-id payloads only: the shared one is referenced again below, not copied into each CTE row.
    RETURNING event_id, record_id, CASE WHEN p_payloads IS NOT NULL THEN payload END AS payload, occurred_at, ticket
  ),
  targets AS (
    SELECT l.event_id, l.record_id, l.payload, l.occurred_at, l.ticket, r.name AS route, r.coalesce
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
       SET event_id = t.event_id, op = p_op, source = p_source, payload = coalesce(t.payload, p_payload),
           occurred_at = t.occurred_at, ticket = t.ticket, merged_count = q.merged_count + 1, updated_at = now()
      FROM newest t
     WHERE q.id = t.live_id AND q.state = 'pending' AND NOT (q.op = 'delete' AND p_op <> 'delete')
    RETURNING q.route, q.record_id
  ),
  inserted AS (
    INSERT INTO event_queue (event_id, route, entity, record_id, op, source, payload, occurred_at, ticket)
    SELECT t.event_id, t.route, p_entity, t.record_id, p_op, p_source, coalesce(t.payload, p_payload), t.occurred_at, t.ticket
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

export class EnqueueTickets1000000000010 implements MigrationInterface {
  name = 'EnqueueTickets1000000000010';

  // sluice_enqueue_route calls sluice_enqueue by name and position, so it needs no change.
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid, boolean, text, jsonb)`,
    );
    await q.query(ENQUEUE_TICKETS);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid, boolean, text, jsonb, uuid[])`,
    );
    await q.query(enqueueFunction(true));
  }
}
