import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the pruner walks: done queue rows by age, published change-log rows by age. Both are small
 * partial indexes so pruning in small batches never scans the live queue.
 */
export class DrainRetention1000000000003 implements MigrationInterface {
  name = 'DrainRetention1000000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX IF NOT EXISTS event_queue_done_idx ON event_queue (done_at) WHERE state = 'done';
      CREATE INDEX IF NOT EXISTS event_log_published_idx ON event_log (published_at) WHERE published_at IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS event_queue_done_idx; DROP INDEX IF EXISTS event_log_published_idx;`);
  }
}
