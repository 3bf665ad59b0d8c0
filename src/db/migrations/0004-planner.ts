import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The planner: the process registry, its runs (the slot limit counts `running` rows under an advisory
 * lock; a partial unique index keeps a process from overlapping itself), the planner decision log, the
 * backfill checkpoints, and sluice_enqueue_route(), the enqueue path that targets one named route.
 */
export class Planner1000000000004 implements MigrationInterface {
  name = 'Planner1000000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sluice_process (
        name                    text PRIMARY KEY,
        handler                 text NOT NULL,
        params                  jsonb NOT NULL DEFAULT '{}',
        kind                    text NOT NULL CHECK (kind IN ('recurrent', 'single')),
        schedule                text,
        not_before              text,
        depends_on              text[] NOT NULL DEFAULT '{}',
        priority                integer NOT NULL DEFAULT 0,
        refresh_window_minutes  integer NOT NULL DEFAULT 0,
        enabled                 boolean NOT NULL DEFAULT true,
        alarmed                 boolean NOT NULL DEFAULT false,
        -- Recurrent: when the next scheduled run falls due (computed by the planner from the schedule).
        next_due_at             timestamptz,
        -- Denormalised from sluice_run so a planning pass reads one table.
        last_run_id             uuid,
        last_started_at         timestamptz,
        last_succeeded_at       timestamptz,
        -- The last decision logged for this process: a pass logs only changes, not every tick.
        last_decision           text,
        created_at              timestamptz NOT NULL DEFAULT now(),
        updated_at              timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'recurrent') = (schedule IS NOT NULL))
      );
      CREATE INDEX sluice_process_due_idx ON sluice_process (next_due_at) WHERE enabled;

      CREATE TABLE sluice_run (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- Insertion order: run times come from the planner's clock and may tie.
        seq           bigserial NOT NULL,
        process       text NOT NULL,
        handler       text NOT NULL,
        status        text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
        trigger       text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'registered')),
        due_at        timestamptz,
        requested_at  timestamptz NOT NULL DEFAULT now(),
        started_at    timestamptz,
        ended_at      timestamptz,
        instance      text,
        heartbeat_at  timestamptz,
        progress      jsonb,
        error         text
      );
      -- A process never overlaps itself, whichever instance starts it.
      CREATE UNIQUE INDEX sluice_run_one_active_idx ON sluice_run (process) WHERE status = 'running';
      CREATE INDEX sluice_run_queued_idx ON sluice_run (process, seq) WHERE status = 'queued';
      CREATE INDEX sluice_run_process_idx ON sluice_run (process, seq DESC);
      CREATE INDEX sluice_run_seq_idx ON sluice_run (seq DESC);

      CREATE TABLE sluice_planner_log (
        id        bigserial PRIMARY KEY,
        at        timestamptz NOT NULL DEFAULT now(),
        instance  text NOT NULL,
        process   text NOT NULL,
        decision  text NOT NULL,
        reason    text NOT NULL,
        run_id    uuid
      );
      CREATE INDEX sluice_planner_log_process_idx ON sluice_planner_log (process, id DESC);

      -- One row per backfill run; the keyset cursor is its checkpoint.
      CREATE TABLE sluice_backfill (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        table_name      text NOT NULL,
        key_column      text NOT NULL,
        route           text NOT NULL,
        status          text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        cursor          text,
        page_size       integer NOT NULL,
        threads         integer NOT NULL,
        total_rows      bigint,
        rows_done       bigint NOT NULL DEFAULT 0,
        pages_started   integer NOT NULL DEFAULT 0,
        pages_finished  integer NOT NULL DEFAULT 0,
        pages_slow      integer NOT NULL DEFAULT 0,
        pages_stopped   integer NOT NULL DEFAULT 0,
        resumed_from    text,
        run_id          uuid,
        holder          text,
        error           text,
        started_at      timestamptz NOT NULL DEFAULT now(),
        heartbeat_at    timestamptz NOT NULL DEFAULT now(),
        ended_at        timestamptz
      );
      CREATE INDEX sluice_backfill_target_idx ON sluice_backfill (table_name, route, started_at DESC);
    `);

    // sluice_enqueue (0002's version) with the fan-out replaced by one named route: the same log, queue,
    // coalescing rule and NOTIFY.
    await q.query(`
      CREATE FUNCTION sluice_enqueue_route(p_route text, p_entity text, p_op text, p_source text, p_ids text[],
                                           p_payloads jsonb[], p_ticket uuid)
      RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT SET plan_cache_mode = force_custom_plan AS $fn$
      DECLARE n integer; r_coalesce boolean;
      BEGIN
        SELECT r.coalesce INTO r_coalesce FROM sluice_route r WHERE r.name = p_route AND r.enabled;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'route "%" does not exist or is disabled', p_route USING ERRCODE = 'P0002';
        END IF;
        WITH input AS (
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
        newest AS (
          SELECT l.*, (SELECT x.id FROM event_queue x
                        WHERE x.route = p_route AND x.entity = p_entity AND x.record_id = l.record_id
                          AND x.state IN ('pending', 'running')
                        ORDER BY x.id DESC LIMIT 1) AS live_id
            FROM logged l WHERE r_coalesce
        ),
        merged AS (
          UPDATE event_queue q
             SET event_id = t.event_id, op = p_op, source = p_source, payload = t.payload,
                 occurred_at = t.occurred_at, ticket = p_ticket, merged_count = q.merged_count + 1, updated_at = now()
            FROM newest t
           WHERE q.id = t.live_id AND q.state = 'pending' AND NOT (q.op = 'delete' AND p_op <> 'delete')
          RETURNING q.record_id
        ),
        inserted AS (
          INSERT INTO event_queue (event_id, route, entity, record_id, op, source, payload, occurred_at, ticket)
          SELECT l.event_id, p_route, p_entity, l.record_id, p_op, p_source, l.payload, l.occurred_at, p_ticket
            FROM logged l
           WHERE NOT EXISTS (SELECT 1 FROM merged m WHERE m.record_id = l.record_id)
          RETURNING 1
        )
        SELECT count(*) INTO n FROM logged;
        PERFORM pg_notify('sluice', '');
        RETURN n;
      END
      $fn$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION IF EXISTS sluice_enqueue_route(text, text, text, text, text[], jsonb[], uuid);
      DROP TABLE IF EXISTS sluice_backfill, sluice_planner_log, sluice_run, sluice_process;
    `);
  }
}
