import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capture: the registry of tables whose changes Postgres triggers capture (for `capture list` and
 * `capture remove`), and the delivery ids of signed webhooks already accepted (a repeat adds nothing).
 * sluice_enqueue is redefined: same contract, faster (see ENQUEUE_V2), and a fixed search_path so
 * triggers fired from sessions with another search_path still find Sluice's tables.
 */
/**
 * Same behaviour as 0001's version. Faster: ids and payloads are unnested together (subscripting a
 * jsonb[] by position walks the array, so 0001 was quadratic in the batch size), and the coalescing
 * target is looked up per change through the (route, entity, record_id, id) index instead of hashing
 * every live row of the entity. p_notify (default true) lets the API skip the in-transaction NOTIFY; p_route (default NULL) sends every
 * change to that one route instead of fanning out (backfills, via sluice_enqueue_route in 0004). Plans are made per call (force_custom_plan): a generic plan guesses the
 * batch size and nest-loops through 10,000 ids as if they were 100.
 */
const ENQUEUE_V2 = `
DROP FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid);
CREATE FUNCTION sluice_enqueue(p_entity text, p_op text, p_source text, p_ids text[], p_payloads jsonb[], p_ticket uuid,
                               p_notify boolean DEFAULT true, p_route text DEFAULT NULL)
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
    SELECT gen_random_uuid(), p_entity, record_id, p_op, p_source, payload, p_ticket FROM input ORDER BY ord
    RETURNING event_id, record_id, payload, occurred_at
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
       SET event_id = t.event_id, op = p_op, source = p_source, payload = t.payload,
           occurred_at = t.occurred_at, ticket = p_ticket, merged_count = q.merged_count + 1, updated_at = now()
      FROM newest t
     WHERE q.id = t.live_id AND q.state = 'pending' AND NOT (q.op = 'delete' AND p_op <> 'delete')
    RETURNING q.route, q.record_id
  ),
  inserted AS (
    INSERT INTO event_queue (event_id, route, entity, record_id, op, source, payload, occurred_at, ticket)
    SELECT t.event_id, t.route, p_entity, t.record_id, p_op, p_source, t.payload, t.occurred_at, p_ticket
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

export class Capture1000000000002 implements MigrationInterface {
  name = 'Capture1000000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sluice_capture (
        schema_name  text NOT NULL,
        table_name   text NOT NULL,
        entity       text NOT NULL,
        id_column    text NOT NULL,
        -- NULL: the whole row is the payload and every column is watched.
        columns      text[],
        function_name text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (schema_name, table_name)
      );

      CREATE TABLE sluice_webhook_delivery (
        source       text NOT NULL,
        delivery_id  text NOT NULL,
        ticket       uuid NOT NULL,
        accepted     integer NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, delivery_id)
      );

    `);
    await q.query(ENQUEUE_V2);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS sluice_webhook_delivery, sluice_capture;
    `);
  }
}
