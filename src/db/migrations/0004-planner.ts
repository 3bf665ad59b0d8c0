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

    // The one enqueue path aimed at one named route (backfills): refuses a missing or disabled route,
    // then sluice_enqueue does the log, queue, coalescing and NOTIFY exactly as for every other change.
    await q.query(`
      CREATE FUNCTION sluice_enqueue_route(p_route text, p_entity text, p_op text, p_source text, p_ids text[],
                                           p_payloads jsonb[], p_ticket uuid)
      RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
      BEGIN
        PERFORM 1 FROM sluice_route r WHERE r.name = p_route AND r.enabled;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'route "%" does not exist or is disabled', p_route USING ERRCODE = 'P0002';
        END IF;
        RETURN sluice_enqueue(p_entity, p_op, p_source, p_ids, p_payloads, p_ticket, true, p_route);
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
