import type { MigrationInterface, QueryRunner } from 'typeorm';
import { fanOutFunction } from './0005-capture-journal';

/**
 * The capture journal without a hot sequence. Every captured statement drew the journal's bigserial id: one
 * sequence page locked exclusively by every writer, with a WAL record every 32 values. Under 8 concurrent pgbench
 * writers of one-row transactions (no fan-out running) that sequence cost the writers more than the rest of the
 * journal insert: captured / uncaptured TPS 0.66 with it, 0.77 with the order taken from the WAL instead (four
 * alternating rounds each, same run).
 *
 * A journal row's order is now `lsn`, the WAL insert position when the row was written
 * (pg_current_wal_insert_lsn(), a spinlock read, no page locked). Order per record holds as it did with the id: a
 * later change to a record waits on the earlier one's row lock until that transaction's commit record is in the
 * WAL, so it reads a greater position; within one transaction each statement's journal rows are in the WAL before
 * the next statement reads. Rows of different transactions may share a position (their records differ); the
 * fan-out breaks ties by `ctid` so an order is total within one fan-out. Rows journaled before this migration keep
 * their id, get lsn 0/0 and go first, in id order. The fan-out finds its rows by `ctid` (nothing else moves or
 * deletes journal rows while it holds its advisory lock).
 */
export class CaptureJournalLsn1000000000016 implements MigrationInterface {
  name = 'CaptureJournalLsn1000000000016';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- A volatile default would rewrite the table: add the column bare, fill the old rows, then set the default.
      ALTER TABLE sluice_capture_batch ADD COLUMN lsn pg_lsn;
      UPDATE sluice_capture_batch SET lsn = '0/0';
      ALTER TABLE sluice_capture_batch ALTER COLUMN lsn SET NOT NULL,
        ALTER COLUMN lsn SET DEFAULT pg_current_wal_insert_lsn();
      ALTER TABLE sluice_capture_batch DROP CONSTRAINT sluice_capture_batch_pkey,
        ALTER COLUMN id DROP DEFAULT, ALTER COLUMN id DROP NOT NULL;
      DROP SEQUENCE sluice_capture_batch_id_seq;
      CREATE INDEX sluice_capture_batch_lsn_idx ON sluice_capture_batch (lsn);
    `);
    await q.query(`
      CREATE OR REPLACE FUNCTION sluice_fan_out_captures(p_max integer DEFAULT 10000)
      RETURNS integer LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        b record;
        g record;
        n integer;
        total integer := 0;
        picked tid[];
      BEGIN
        -- One fan-out at a time across all instances; -1 tells the caller another one is at work.
        IF NOT pg_try_advisory_xact_lock(hashtext('sluice_fan_out_captures')) THEN
          RETURN -1;
        END IF;
        -- The oldest journal rows that fit in p_max changes together (at most 1,000 rows), in journal order.
        picked := ARRAY(SELECT j.ctid FROM (SELECT x.ctid, x.lsn, x.id,
                                                   sum(x.size - x.done) OVER (ORDER BY x.lsn, x.id, x.ctid ROWS UNBOUNDED PRECEDING) AS upto
                                              FROM (SELECT ctid, lsn, id, size, done FROM sluice_capture_batch
                                                     ORDER BY lsn, id, ctid LIMIT 1000) x) j
                         WHERE j.upto <= p_max ORDER BY j.lsn, j.id, j.ctid);
        IF cardinality(picked) > 1 THEN
          -- Many small statements (an OLTP table): one sluice_enqueue per (wave, table, op) instead of one per
          -- statement. A record's k-th change among them is in wave k, and waves go in order, so each record's
          -- changes keep their order and no call names a record twice. pos: the journal row's place in order.
          FOR g IN
            WITH changes AS (
              SELECT p.pos, jb.schema_name, jb.table_name, jb.entity, jb.op, jb.source, u.rid, u.image, u.ord
                FROM unnest(picked) WITH ORDINALITY AS p(t, pos)
                JOIN sluice_capture_batch jb ON jb.ctid = p.t,
                     unnest(jb.ids, jb.payloads) WITH ORDINALITY AS u(rid, image, ord)
               WHERE u.ord > jb.done
            ),
            waved AS (
              SELECT c.*, row_number() OVER (PARTITION BY c.entity, c.rid ORDER BY c.pos, c.ord) AS wave FROM changes c
            )
            SELECT w.wave, w.schema_name, w.table_name, w.entity, w.op, w.source, min(w.pos) AS first,
                   array_agg(w.rid ORDER BY w.pos, w.ord) AS ids,
                   CASE WHEN bool_and(w.image IS NULL) THEN NULL ELSE array_agg(w.image ORDER BY w.pos, w.ord) END AS images
              FROM waved w
             GROUP BY w.wave, w.schema_name, w.table_name, w.entity, w.op, w.source
             ORDER BY w.wave, first
          LOOP
            PERFORM sluice_capture_enqueue(g.schema_name, g.table_name, g.entity, g.op, g.source, g.ids, g.images);
            total := total + cardinality(g.ids);
          END LOOP;
          DELETE FROM sluice_capture_batch WHERE ctid = ANY (picked);
        ELSE
          -- One statement's changes, the next slice of at most p_max of them (a 1,000,000-row UPDATE goes out
          -- in slices, each in its own transaction).
          SELECT ctid AS t, schema_name, table_name, entity, op, source, done, size AS len INTO b
            FROM sluice_capture_batch ORDER BY lsn, id, ctid LIMIT 1;
          IF FOUND THEN
            n := least(b.len - b.done, p_max);
            PERFORM sluice_capture_enqueue(b.schema_name, b.table_name, b.entity, b.op, b.source,
                                           x.ids[b.done + 1 : b.done + n], x.payloads[b.done + 1 : b.done + n])
               FROM sluice_capture_batch x WHERE x.ctid = b.t;
            IF b.done + n >= b.len THEN
              DELETE FROM sluice_capture_batch WHERE ctid = b.t;
            ELSE
              UPDATE sluice_capture_batch SET done = done + n WHERE ctid = b.t;
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
      DO $pin$ BEGIN
        EXECUTE format('ALTER FUNCTION sluice_fan_out_captures(integer) SET search_path = %I', current_schema());
      END $pin$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to a bigserial key, numbered in journal order; 0005's fan-out function (as 0014 left it) again.
    await q.query(`
      CREATE SEQUENCE sluice_capture_batch_id_seq OWNED BY sluice_capture_batch.id;
      SELECT setval('sluice_capture_batch_id_seq', greatest(coalesce(max(id), 0), 1)) FROM sluice_capture_batch;
      UPDATE sluice_capture_batch j SET id = o.n
        FROM (SELECT ctid AS t, nextval('sluice_capture_batch_id_seq') AS n
                FROM (SELECT ctid FROM sluice_capture_batch WHERE id IS NULL ORDER BY lsn, ctid) s) o
       WHERE j.ctid = o.t;
      ALTER TABLE sluice_capture_batch ALTER COLUMN id SET DEFAULT nextval('sluice_capture_batch_id_seq'),
        ALTER COLUMN id SET NOT NULL, ADD PRIMARY KEY (id);
      DROP INDEX sluice_capture_batch_lsn_idx;
      ALTER TABLE sluice_capture_batch DROP COLUMN lsn;
    `);
    await q.query(`
${fanOutFunction.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')}      DO $pin$ BEGIN
        EXECUTE format('ALTER FUNCTION sluice_fan_out_captures(integer) SET search_path = %I', current_schema());
      END $pin$;
    `);
  }
}
