import type { MigrationInterface, QueryRunner } from 'typeorm';

/** 0005's fan-out of the capture journal (0016 restores it on the way down). */
export const fanOutFunction = `      CREATE FUNCTION sluice_fan_out_captures(p_max integer DEFAULT 10000)
      RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
      DECLARE
        b record;
        g record;
        n integer;
        total integer := 0;
        picked bigint[];
      BEGIN
        -- One fan-out at a time across all instances; -1 tells the caller another one is at work.
        IF NOT pg_try_advisory_xact_lock(hashtext('sluice_fan_out_captures')) THEN
          RETURN -1;
        END IF;
        -- The oldest journal rows that fit in p_max changes together (at most 1,000 rows).
        picked := ARRAY(SELECT j.id FROM (SELECT x.id, sum(x.size - x.done) OVER (ORDER BY x.id) AS upto
                                            FROM (SELECT id, size, done FROM sluice_capture_batch ORDER BY id LIMIT 1000) x) j
                         WHERE j.upto <= p_max ORDER BY j.id);
        IF cardinality(picked) > 1 THEN
          -- Many small statements (an OLTP table): one sluice_enqueue per (wave, table, op) instead of one per
          -- statement. A record's k-th change among them is in wave k, and waves go in order, so each record's
          -- changes keep their order and no call names a record twice.
          FOR g IN
            WITH changes AS (
              SELECT jb.id AS jid, jb.schema_name, jb.table_name, jb.entity, jb.op, jb.source, u.rid, u.image, u.ord
                FROM sluice_capture_batch jb, unnest(jb.ids, jb.payloads) WITH ORDINALITY AS u(rid, image, ord)
               WHERE jb.id = ANY (picked) AND u.ord > jb.done
            ),
            waved AS (
              SELECT c.*, row_number() OVER (PARTITION BY c.entity, c.rid ORDER BY c.jid, c.ord) AS wave FROM changes c
            )
            SELECT w.wave, w.schema_name, w.table_name, w.entity, w.op, w.source, min(w.jid) AS first,
                   array_agg(w.rid ORDER BY w.jid, w.ord) AS ids,
                   CASE WHEN bool_and(w.image IS NULL) THEN NULL ELSE array_agg(w.image ORDER BY w.jid, w.ord) END AS images
              FROM waved w
             GROUP BY w.wave, w.schema_name, w.table_name, w.entity, w.op, w.source
             ORDER BY w.wave, first
          LOOP
            PERFORM sluice_capture_enqueue(g.schema_name, g.table_name, g.entity, g.op, g.source, g.ids, g.images);
            total := total + cardinality(g.ids);
          END LOOP;
          DELETE FROM sluice_capture_batch WHERE id = ANY (picked);
        ELSE
          -- One statement's changes, the next slice of at most p_max of them (a 1,000,000-row UPDATE goes out
          -- in slices, each in its own transaction).
          SELECT id, schema_name, table_name, entity, op, source, done, size AS len INTO b
            FROM sluice_capture_batch ORDER BY id LIMIT 1;
          IF FOUND THEN
            n := least(b.len - b.done, p_max);
            PERFORM sluice_capture_enqueue(b.schema_name, b.table_name, b.entity, b.op, b.source,
                                           x.ids[b.done + 1 : b.done + n], x.payloads[b.done + 1 : b.done + n])
               FROM sluice_capture_batch x WHERE x.id = b.id;
            IF b.done + n >= b.len THEN
              DELETE FROM sluice_capture_batch WHERE id = b.id;
            ELSE
              UPDATE sluice_capture_batch SET done = done + n WHERE id = b.id;
            END IF;
            total := n;
          END IF;
        END IF;
        IF total > 0 THEN
          PERFORM pg_notify('sluice', '');
        END IF;
        RETURN total;
      END
      $fn$;
`;

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
        -- cardinality(ids), kept so that counting and slicing never read the (out-of-line) arrays.
        size         integer NOT NULL,
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
      -- One call of sluice_enqueue for captured changes of one table and op; without row images (payload
      -- latest) they are read now through the table's row reader, made by capture add (gone if the capture
      -- was removed since: the changes then go out without a payload).
      CREATE FUNCTION sluice_capture_enqueue(p_schema text, p_table text, p_entity text, p_op text, p_source text,
                                             p_ids text[], p_images jsonb[])
      RETURNS void LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
      DECLARE
        fn text;
        images jsonb[] := p_images;
      BEGIN
        IF images IS NULL AND p_op <> 'delete' THEN
          SELECT format('%I.%I', ns.nspname, p.proname) INTO fn
            FROM sluice_capture c JOIN pg_proc p ON p.proname = c.rows_function
            JOIN pg_namespace ns ON ns.oid = p.pronamespace
           WHERE c.schema_name = p_schema AND c.table_name = p_table LIMIT 1;
          IF fn IS NOT NULL THEN
            EXECUTE format('SELECT %s($1)', fn) INTO images USING p_ids;
          END IF;
        END IF;
        PERFORM sluice_enqueue(p_entity, p_op, p_source, p_ids, images, NULL, false);
      END
      $fn$;

${fanOutFunction}    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION IF EXISTS sluice_fan_out_captures(integer);
      DROP FUNCTION IF EXISTS sluice_capture_enqueue(text, text, text, text, text, text[], jsonb[]);
      ALTER TABLE sluice_capture DROP COLUMN IF EXISTS rows_function, DROP COLUMN IF EXISTS payload;
      DROP TABLE IF EXISTS sluice_capture_batch;
    `);
  }
}
