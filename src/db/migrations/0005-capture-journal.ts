import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The capture journal: a captured table's trigger writes one row per statement here (the record ids,
 * and row images only where it must: deletes, or tables captured with `--payload exact`), in the
 * writer's transaction. sluice_fan_out_captures() turns journal rows into event_log + event_queue rows
 * through sluice_enqueue, a few milliseconds after commit, off the writer's path: fanning out in the
 * trigger cost 4-6x the UPDATE it rode on (one indexed event_log row plus one indexed event_queue row per
 * change, plus a jsonb image of every row).
 *
 * Order: fan-out takes journal rows in id order, one fan-out at a time (an advisory lock). For any one
 * record that is commit order: a later change to a record waits on the earlier one's row lock, so its
 * journal id is drawn after the earlier transaction committed.
 */
export class CaptureJournal1000000000005 implements MigrationInterface {
  name = 'CaptureJournal1000000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sluice_capture_batch (
        id           bigserial PRIMARY KEY,
        schema_name  text NOT NULL,
        table_name   text NOT NULL,
        entity       text NOT NULL,
        op           text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
        source       text NOT NULL,
        ids          text[] NOT NULL,
        -- Row images taken in the trigger; NULL: read from the table at fan-out.
        payloads     jsonb[],
        -- How many ids are already fanned out (a big statement goes out in slices).
        done         integer NOT NULL DEFAULT 0,
        captured_at  timestamptz NOT NULL DEFAULT now()
      );
      -- Short-lived rows: compressing the arrays would cost the writer more than the bytes it saves.
      ALTER TABLE sluice_capture_batch ALTER ids SET STORAGE EXTERNAL, ALTER payloads SET STORAGE EXTERNAL;

      -- latest: the payload is the row as it is at fan-out (at least as new as the change; NULL if it is
      -- gone by then). exact: the row image is taken in the trigger, which costs the writer more.
      ALTER TABLE sluice_capture ADD COLUMN payload text NOT NULL DEFAULT 'latest'
        CHECK (payload IN ('latest', 'exact'));
      ALTER TABLE sluice_capture ADD COLUMN rows_function text;
    `);
    await q.query(`
      CREATE FUNCTION sluice_fan_out_captures(p_max integer DEFAULT 10000)
      RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
      DECLARE
        b record;
        n integer;
        total integer := 0;
        slice text[];
        images jsonb[];
        fn text;
      BEGIN
        -- One fan-out at a time across all instances; -1 tells the caller another one is at work.
        IF NOT pg_try_advisory_xact_lock(hashtext('sluice_fan_out_captures')) THEN
          RETURN -1;
        END IF;
        FOR b IN SELECT id, schema_name, table_name, entity, op, source, done, cardinality(ids) AS len
                   FROM sluice_capture_batch ORDER BY id LOOP
          EXIT WHEN total >= p_max;
          n := least(b.len - b.done, p_max - total);
          SELECT x.ids[b.done + 1 : b.done + n], x.payloads[b.done + 1 : b.done + n] INTO slice, images
            FROM sluice_capture_batch x WHERE x.id = b.id;
          IF images IS NULL AND b.op <> 'delete' THEN
            -- The table's row reader, made by capture add; gone if the capture was removed since (the
            -- changes then go out without a payload).
            SELECT format('%I.%I', ns.nspname, p.proname) INTO fn
              FROM sluice_capture c JOIN pg_proc p ON p.proname = c.rows_function
              JOIN pg_namespace ns ON ns.oid = p.pronamespace
             WHERE c.schema_name = b.schema_name AND c.table_name = b.table_name LIMIT 1;
            IF fn IS NOT NULL THEN
              EXECUTE format('SELECT %s($1)', fn) INTO images USING slice;
            END IF;
          END IF;
          PERFORM sluice_enqueue(b.entity, b.op, b.source, slice, images, NULL, false);
          IF b.done + n >= b.len THEN
            DELETE FROM sluice_capture_batch WHERE id = b.id;
          ELSE
            UPDATE sluice_capture_batch SET done = done + n WHERE id = b.id;
          END IF;
          total := total + n;
        END LOOP;
        IF total > 0 THEN
          PERFORM pg_notify('sluice', '');
        END IF;
        RETURN total;
      END
      $fn$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION IF EXISTS sluice_fan_out_captures(integer);
      ALTER TABLE sluice_capture DROP COLUMN IF EXISTS rows_function, DROP COLUMN IF EXISTS payload;
      DROP TABLE IF EXISTS sluice_capture_batch;
    `);
  }
}
