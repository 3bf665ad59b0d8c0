import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The queue's core: the change log (the Kafka outbox), the per-route delivery queue the drain
 * consumes, the route table the enqueue function fans out with, the leader lease, and
 * sluice_enqueue(), the one enqueue path shared by API pushes, webhooks and triggers.
 */
export class Initial1000000000001 implements MigrationInterface {
  name = 'Initial1000000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sluice_route (
        name        text PRIMARY KEY,
        entity      text NOT NULL,
        ops         text[],
        coalesce    boolean NOT NULL DEFAULT true,
        enabled     boolean NOT NULL DEFAULT true,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );

      -- One row per accepted change: the truth, and the outbox the relay publishes to Kafka.
      CREATE TABLE event_log (
        id            bigserial PRIMARY KEY,
        event_id      uuid NOT NULL UNIQUE,
        entity        text NOT NULL,
        record_id     text NOT NULL,
        op            text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'upsert')),
        source        text NOT NULL,
        payload       jsonb,
        ticket        uuid,
        occurred_at   timestamptz NOT NULL DEFAULT now(),
        published_at  timestamptz
      );
      CREATE INDEX event_log_unpublished_idx ON event_log (id) WHERE published_at IS NULL;
      CREATE INDEX event_log_ticket_idx ON event_log (ticket) WHERE ticket IS NOT NULL;

      -- One row per (change, route): what the drain claims and delivers.
      CREATE TABLE event_queue (
        id             bigserial PRIMARY KEY,
        event_id       uuid NOT NULL,
        route          text NOT NULL,
        entity         text NOT NULL,
        record_id      text NOT NULL,
        op             text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'upsert')),
        source         text NOT NULL,
        payload        jsonb,
        ticket         uuid,
        occurred_at    timestamptz NOT NULL DEFAULT now(),
        state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'dead')),
        attempts       integer NOT NULL DEFAULT 0,
        run_at         timestamptz NOT NULL DEFAULT now(),
        locked_by      text,
        locked_until   timestamptz,
        merged_count   integer NOT NULL DEFAULT 0,
        last_error     text,
        last_status    integer,
        last_response  text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        done_at        timestamptz
      );
      -- The claim walks this in run_at order.
      CREATE INDEX event_queue_claim_idx ON event_queue (run_at, id) WHERE state = 'pending';
      -- Per-record order and coalescing look up the live rows of one (route, entity, record).
      CREATE INDEX event_queue_key_idx ON event_queue (route, entity, record_id, id) WHERE state IN ('pending', 'running');
      -- Recovery of rows whose worker died.
      CREATE INDEX event_queue_lease_idx ON event_queue (locked_until) WHERE state = 'running';
      CREATE INDEX event_queue_ticket_idx ON event_queue (ticket) WHERE ticket IS NOT NULL;

      -- Single-active leadership: one row per role, taken over only after expiry, term bumped on each change.
      CREATE TABLE sluice_leader (
        name        text PRIMARY KEY,
        holder      text NOT NULL,
        term        bigint NOT NULL,
        expires_at  timestamptz NOT NULL
      );
    `);

    await q.query(`
      CREATE FUNCTION sluice_enqueue(p_entity text, p_op text, p_source text, p_ids text[], p_payloads jsonb[], p_ticket uuid)
      RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE n integer;
      BEGIN
        WITH input AS (
          -- A record named twice in one call is one change: the last payload wins.
          SELECT DISTINCT ON (i.record_id) gen_random_uuid() AS event_id, i.record_id, p_payloads[i.ord] AS payload, i.ord
          FROM unnest(p_ids) WITH ORDINALITY AS i(record_id, ord)
          ORDER BY i.record_id, i.ord DESC
        ),
        logged AS (
          INSERT INTO event_log (event_id, entity, record_id, op, source, payload, ticket)
          SELECT event_id, p_entity, record_id, p_op, p_source, payload, p_ticket FROM input ORDER BY ord
          RETURNING event_id, record_id, payload, occurred_at
        ),
        targets AS (
          SELECT l.event_id, l.record_id, l.payload, l.occurred_at, r.name AS route, r.coalesce
          FROM logged l
          JOIN sluice_route r ON r.enabled AND (r.entity = p_entity OR r.entity = '*')
                             AND (r.ops IS NULL OR p_op = ANY (r.ops))
        ),
        merged AS (
          -- Coalescing: fold the change into the newest waiting row of the same record, unless that row
          -- is a delete and this is not (a delete is never merged away behind a later insert).
          UPDATE event_queue q
             SET event_id = t.event_id, op = p_op, source = p_source, payload = t.payload,
                 occurred_at = t.occurred_at, ticket = p_ticket, merged_count = q.merged_count + 1, updated_at = now()
            FROM targets t
           WHERE t.coalesce AND q.state = 'pending' AND q.route = t.route AND q.entity = p_entity
             AND q.record_id = t.record_id AND NOT (q.op = 'delete' AND p_op <> 'delete')
             AND q.id = (SELECT max(x.id) FROM event_queue x
                          WHERE x.route = t.route AND x.entity = p_entity AND x.record_id = t.record_id
                            AND x.state IN ('pending', 'running'))
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
        -- A latency hint only: the drain and relay also poll.
        PERFORM pg_notify('sluice', '');
        RETURN n;
      END
      $fn$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION IF EXISTS sluice_enqueue(text, text, text, text[], jsonb[], uuid);
      DROP TABLE IF EXISTS sluice_leader, event_queue, event_log, sluice_route;
    `);
  }
}
