import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enqueueFunction as lanedEnqueue } from './0017-lanes';

const RANDOM_ID = 'SELECT gen_random_uuid(), p_entity,';

/**
 * 0017's sluice_enqueue giving each new event a time-ordered id (`ordered: false` is 0017's function).
 */
export const enqueueFunction = (ordered: boolean) => {
  const sql = lanedEnqueue(true);
  if (sql.split(RANDOM_ID).length !== 2) throw new Error('0020: the enqueue function of 0017 changed');
  return ordered ? sql.replace(RANDOM_ID, 'SELECT sluice_uuid7(), p_entity,') : sql;
};

/**
 * Cheaper indexes for the two tables written once per event (issue #15's budget: the attempt log may cost the
 * drain at most 10%).
 *
 * - Event ids are UUIDv7 (RFC 9562: 48 bits of Unix time in ms, then random bits) instead of v4. Every event id
 *   goes into two B-trees: event_log's unique index and sluice_attempt_event_idx (once per attempt). A random v4
 *   lands on a random leaf page, so a large index dirties (and, past shared_buffers, reads) one page per insert;
 *   a v7 lands on the rightmost pages like a sequence. Ids stay unique (74 random bits per millisecond) and
 *   opaque to users; they now also sort by creation time. Existing ids are kept.
 * - sluice_attempt_route_idx is dropped: a filter on route walks the primary key newest first (the list's own
 *   order) and stops at the page's limit, so only a route with few attempts among many reads far; the index cost
 *   every attempt an insert.
 */
export class OrderedEventIds1000000000020 implements MigrationInterface {
  name = 'OrderedEventIds1000000000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sluice_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $fn$
        SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                 PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                 FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
      $fn$;
    `);
    await q.query(enqueueFunction(true));
    await q.query('DROP INDEX IF EXISTS sluice_attempt_route_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX IF NOT EXISTS sluice_attempt_route_idx ON sluice_attempt (route, id)');
    await q.query(enqueueFunction(false));
    await q.query('DROP FUNCTION IF EXISTS sluice_uuid7()');
  }
}
