import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The attempt log and the routes' failure clock. sluice_attempt: one row per delivery attempt (sent or
 * deferred by the breaker/rate limit), written by the settle statement (settle-rows.ts) and pruned by age;
 * its id is the cursor (newest first). sluice_route_health: per route, since when every attempt failed
 * (null while the last one succeeded), kept in Postgres so a restart does not reset the auto-disable clock.
 */
export class AttemptLog1000000000015 implements MigrationInterface {
  name = 'AttemptLog1000000000015';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS sluice_attempt (
        id           bigserial PRIMARY KEY,
        event_id     uuid NOT NULL,
        queue_id     bigint NOT NULL,
        route        text NOT NULL,
        entity       text NOT NULL,
        record_id    text NOT NULL,
        attempt      int NOT NULL,
        started_at   timestamptz NOT NULL,
        duration_ms  int NOT NULL,
        -- 'succeeded'; 'failed' (retried later); 'dead' (failed, became a dead letter); 'deferred' (not sent).
        outcome      text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'dead', 'deferred')),
        http_status  int,
        error_code   text,
        error        text,
        response     text
      );
      CREATE INDEX IF NOT EXISTS sluice_attempt_event_idx ON sluice_attempt (event_id, id);
      CREATE INDEX IF NOT EXISTS sluice_attempt_route_idx ON sluice_attempt (route, id);
      CREATE INDEX IF NOT EXISTS sluice_attempt_record_idx ON sluice_attempt (entity, record_id, id);
      CREATE TABLE IF NOT EXISTS sluice_route_health (
        route          text PRIMARY KEY,
        -- First failed attempt after the last success; null: the last attempt succeeded (or none failed).
        failing_since  timestamptz,
        updated_at     timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS sluice_attempt, sluice_route_health;`);
  }
}
