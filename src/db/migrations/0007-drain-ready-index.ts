import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claims whose cost does not depend on the planner's luck (issue #12).
 *
 * - `blocked`: a pending row the claim found waiting behind an earlier pending row of the same record. It
 *   leaves the ready index, so a record with a thousand queued changes behind a retrying head costs the
 *   claim nothing; the settle that ends the head's predecessor unblocks the next row (src/db/queue/settle.ts).
 * - `bulk`: backfill rows (source `backfill:<table>`), which every claim takes after live ones.
 * - `event_queue_ready_idx`: per route, bulk last, oldest due first, only rows that may be claimed now. The
 *   claim reads it with one LIMIT probe per route, so no plan can walk the table (the old (run_at, id)
 *   index plus an anti join could, on stale statistics: 6.5 and 9 minutes without a delivery).
 */
export class DrainReadyIndex1000000000007 implements MigrationInterface {
  name = 'DrainReadyIndex1000000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE event_queue
        ADD COLUMN blocked boolean NOT NULL DEFAULT false,
        ADD COLUMN bulk boolean GENERATED ALWAYS AS (starts_with(source, 'backfill:')) STORED;
      CREATE INDEX event_queue_ready_idx ON event_queue (route, bulk, run_at, id)
        WHERE state = 'pending' AND NOT blocked;
      CREATE INDEX event_queue_blocked_idx ON event_queue (id) WHERE state = 'pending' AND blocked;
      DROP INDEX IF EXISTS event_queue_claim_idx;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX event_queue_claim_idx ON event_queue (run_at, id) WHERE state = 'pending';
      DROP INDEX IF EXISTS event_queue_blocked_idx;
      DROP INDEX IF EXISTS event_queue_ready_idx;
      ALTER TABLE event_queue DROP COLUMN bulk, DROP COLUMN blocked;
    `);
  }
}
