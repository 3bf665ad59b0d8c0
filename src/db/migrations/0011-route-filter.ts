import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ENQUEUE_TICKETS } from './0010-enqueue-tickets';

/**
 * Route filters (`match.where`): sluice_route.filter holds the route's conditions compiled to a jsonpath
 * predicate (db/queue/where-jsonpath.ts), and sluice_enqueue queues a change for a route only when its
 * payload meets them (`payload @@ filter`). Every entry point (push, webhook, trigger fan-out, backfill)
 * goes through sluice_enqueue, so they all filter alike; event_log (and so Kafka) still gets every change.
 * Otherwise the same function as 0010's.
 */
/** The join line of 0010's sluice_enqueue that picks a change's routes by match; the filter goes after it. */
const MATCH_LINE = 'ELSE r.name = p_route END\n';

/**
 * 0010's sluice_enqueue (per-id tickets for group commit) with the route filter added to its routes join;
 * `filtered: false` is 0010's function itself (down()).
 */
export const enqueueFunction = (filtered: boolean) => {
  if (!ENQUEUE_TICKETS.includes(MATCH_LINE)) throw new Error('0011: the routes join of 0010 changed');
  const sql = ENQUEUE_TICKETS.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION');
  return filtered
    ? sql.replace(
        MATCH_LINE,
        `ELSE r.name = p_route END
                                       -- match.where: a change without a payload never meets a route's conditions.
                                       AND (r.filter IS NULL OR coalesce(coalesce(l.payload, p_payload) @@ r.filter, false))
`,
      )
    : sql;
};

export class RouteFilter1000000000011 implements MigrationInterface {
  name = 'RouteFilter1000000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE sluice_route ADD COLUMN filter jsonpath`);
    await q.query(enqueueFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(enqueueFunction(false));
    await q.query(`ALTER TABLE sluice_route DROP COLUMN IF EXISTS filter`);
  }
}
