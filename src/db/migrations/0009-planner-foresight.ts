import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Planner foresight: each process's time zone and the measured durations of its recent successful runs
 * (kept on the process row, so a pass reads expected run times without touching sluice_run), and the
 * planner's shared settings (slot limit, reservation horizon, default run time) as one row that every
 * instance reads on every pass.
 */
export class PlannerForesight1000000000009 implements MigrationInterface {
  name = 'PlannerForesight1000000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sluice_process ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
      -- The last 20 successful run times, ms, oldest first; p50/p90 are derived from them on each success.
      ALTER TABLE sluice_process ADD COLUMN recent_run_ms integer[] NOT NULL DEFAULT '{}';
      ALTER TABLE sluice_process ADD COLUMN run_p50_ms integer;
      ALTER TABLE sluice_process ADD COLUMN run_p90_ms integer;

      -- Processes that already ran start with their history.
      UPDATE sluice_process p SET recent_run_ms = h.ms,
             run_p50_ms = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(h.ms) v),
             run_p90_ms = (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(h.ms) v)
        FROM (
          SELECT process, array_agg(ms ORDER BY seq) AS ms FROM (
            SELECT process, seq, least(greatest(extract(epoch FROM ended_at - started_at) * 1000, 0), 2147483647)::int AS ms,
                   row_number() OVER (PARTITION BY process ORDER BY seq DESC) AS n
              FROM sluice_run WHERE status = 'succeeded' AND started_at IS NOT NULL AND ended_at IS NOT NULL
          ) r WHERE n <= 20 GROUP BY process
        ) h
       WHERE p.name = h.process;

      CREATE TABLE sluice_planner_settings (
        id                       boolean PRIMARY KEY DEFAULT true CHECK (id),
        max_active               integer NOT NULL DEFAULT 5 CHECK (max_active BETWEEN 1 AND 1000),
        reserve_horizon_minutes  integer NOT NULL DEFAULT 1440 CHECK (reserve_horizon_minutes BETWEEN 0 AND 10080),
        default_run_minutes      integer NOT NULL DEFAULT 10 CHECK (default_run_minutes BETWEEN 1 AND 1440),
        -- The values an instance's environment last wrote: a start writes only what changed since.
        config                   jsonb NOT NULL DEFAULT '{}',
        updated_by               text NOT NULL DEFAULT 'default',
        updated_at               timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO sluice_planner_settings DEFAULT VALUES;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS sluice_planner_settings;
      ALTER TABLE sluice_process DROP COLUMN IF EXISTS time_zone, DROP COLUMN IF EXISTS recent_run_ms,
        DROP COLUMN IF EXISTS run_p50_ms, DROP COLUMN IF EXISTS run_p90_ms;
    `);
  }
}
