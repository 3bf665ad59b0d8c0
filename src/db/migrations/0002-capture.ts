import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capture: the registry of tables whose changes Postgres triggers capture (for `capture list` and
 * `capture remove`), and the delivery ids of signed webhooks already accepted (a repeat adds nothing).
 * sluice_enqueue gets a fixed search_path so triggers fired from sessions with another search_path
 * still find Sluice's tables.
 */
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

      ALTER FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid) SET search_path FROM CURRENT;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION sluice_enqueue(text, text, text, text[], jsonb[], uuid) RESET search_path;
      DROP TABLE IF EXISTS sluice_webhook_delivery, sluice_capture;
    `);
  }
}
