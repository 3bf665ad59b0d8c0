import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Captures that never hold the writer up. The journal's op CHECK is dropped: Postgres rebuilds a CHECK's
 * expression for every INSERT statement, about a sixth of the trigger's cost on a one-row UPDATE, and only
 * Sluice's generated triggers write here. sluice_capture.trigger_version records which version of the
 * generated SQL each capture runs: captures made by an older Sluice (version 1: a NOTIFY in the writer's
 * transaction, which serialised the commits of every captured writer) get their functions rewritten at start.
 */
export class CaptureNoNotify1000000000008 implements MigrationInterface {
  name = 'CaptureNoNotify1000000000008';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sluice_capture_batch DROP CONSTRAINT IF EXISTS sluice_capture_batch_op_check;
      ALTER TABLE sluice_capture ADD COLUMN trigger_version integer NOT NULL DEFAULT 1;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sluice_capture DROP COLUMN IF EXISTS trigger_version;
      ALTER TABLE sluice_capture_batch ADD CONSTRAINT sluice_capture_batch_op_check
        CHECK (op IN ('insert', 'update', 'delete'));
    `);
  }
}
