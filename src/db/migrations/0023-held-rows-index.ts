import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rows in flight found through an index that no other guard can stand in for (issue #12).
 *
 * The heartbeat, the recovery sweep and the releases found running rows by `state = 'running'`, which implies
 * the predicates of two partial indexes: event_queue_lease_idx (state = 'running': the rows in flight) and
 * event_queue_key_idx (state IN ('pending', 'running'): the whole backlog). On statistics taken while no row was
 * pending or running both look empty, the planner cannot tell them apart, and it walked the key index: on
 * drain-stale-stats' queue (300,000 pending rows) a heartbeat read 300,000 entries for its 2,000 rows (250 ms)
 * and a sweep 300,000 for none, growing with the backlog until the statement timeout.
 *
 * A row is running exactly while it has a holder (the claim sets `locked_by`, every way out of running clears
 * it), so those queries now say `locked_by = $holder` or `locked_by IS NOT NULL`, whose one partial index is
 * this one: the key index's predicate does not follow from them. Keyed by holder, it serves the heartbeat and
 * the releases by a range scan of one holder's rows; the sweep reads it whole: the rows in flight, however
 * big the backlog. `locked_until` is in no index any more, so a heartbeat's update can be HOT.
 *
 * Building it reads the table once under a lock that holds writes back (about a second per million rows).
 */
export class HeldRowsIndex1000000000023 implements MigrationInterface {
  name = 'HeldRowsIndex1000000000023';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX event_queue_held_idx ON event_queue (locked_by) WHERE locked_by IS NOT NULL');
    await q.query('DROP INDEX IF EXISTS event_queue_lease_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query("CREATE INDEX event_queue_lease_idx ON event_queue (locked_until) WHERE state = 'running'");
    await q.query('DROP INDEX IF EXISTS event_queue_held_idx');
  }
}
