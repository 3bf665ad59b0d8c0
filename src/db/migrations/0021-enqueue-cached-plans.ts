import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enqueueFunction as orderedEnqueue } from './0020-ordered-event-ids';

/** Calls of up to this many ids run on a plan cached per session; bigger ones are planned per call. */
export const FEW_IDS = 64;

const HEAD = 'CREATE OR REPLACE FUNCTION sluice_enqueue(';
/** The merge step's join to event_queue: it gets a bound on the rows it may read (below). */
const MERGE_WHERE =
  "WHERE q.id = t.live_id AND q.state = 'pending' AND NOT (q.op = 'delete' AND p_op <> 'delete')\n";
const DECLARE_LINE = 'DECLARE n integer;\n';
const SETTINGS = 'SET search_path FROM CURRENT SET plan_cache_mode = force_custom_plan AS $fn$';

/** 0020's sluice_enqueue under another name, with other settings. */
const variant = (name: string, settings: string) => {
  const sql = orderedEnqueue(true);
  for (const part of [`\n${HEAD}`, SETTINGS, MERGE_WHERE, DECLARE_LINE])
    if (sql.split(part).length !== 2) throw new Error('0021: the enqueue function of 0020 changed');
  return sql
    .replace(HEAD, `CREATE FUNCTION ${name}(`)
    .replace(SETTINGS, `${settings} AS $fn$`)
    .replace(DECLARE_LINE, `${DECLARE_LINE}        v_pending constant text := 'pending';\n`)
    .replace(
      MERGE_WHERE,
      `WHERE q.id = t.live_id AND q.state = v_pending AND NOT (q.op = 'delete' AND p_op <> 'delete')
       -- Only the rows found above, by primary key, whatever join the planner picks. The state is a variable so
       -- that no partial index's predicate (state IN ...) follows from it: a cached plan must not walk one.
       AND q.id = ANY (ARRAY(SELECT n.live_id FROM newest n))\n`,
    );
};

const ARGS = 'p_entity, p_op, p_source, p_ids, p_payloads, p_ticket, p_notify, p_route, p_payload, p_tickets';

/**
 * Cached plans for small enqueue calls (issue #16: single pushes and webhooks through group commit).
 *
 * sluice_enqueue planned its statement on every call (force_custom_plan): ~0.48 ms of Postgres CPU per call
 * on this machine, whatever its size: 0.62 ms for a call with no ids against 0.15 ms with the plan cached; a
 * group commit of ~20 single pushes makes one call, so planning was about a third of the API's Postgres CPU.
 * Per-call plans were there because a generic plan made while the queue is small reads the whole queue once
 * it is big (0019, reverted: a merge step hash-joined a sequential scan of event_queue).
 *
 * Now sluice_enqueue is a dispatcher over two copies of the same function body:
 * - `sluice_enqueue_few` (calls of up to FEW_IDS ids: group commits, one-row captures, single pushes): a
 *   generic plan, made once per session, with sequential scans and JIT off (the cost of a disabled path would
 *   make every call JIT-compile). It must not depend on the statistics of when it was made, so it reaches
 *   event_queue only by index probes per change: the key index for a record's newest live row (a LIMIT 1
 *   probe), and for the merge the primary key of the rows found (`q.id = ANY (...)`). The merge compares the
 *   state to a variable, so no partial index is a candidate there: a plan cached on a small queue otherwise
 *   walked the whole key index (its predicate follows from `state = 'pending'`, and a btree evaluates
 *   `id = ANY` on its fourth column by reading every entry). With a few ids every join is cheap; big calls do
 *   not come here, as a generic plan's nested-loop anti join between targets and merged rows is quadratic in
 *   them (1,000 ids that all merge: 81 ms against 55 ms planned per call).
 * - `sluice_enqueue_many` (bigger calls: pushes of many ids, backfill pages, big captured statements): the
 *   previous function, planned per call for its real size; planning is a small part of such a call.
 * Same arguments, same results; the dispatch costs a function call.
 */
export class EnqueueCachedPlans1000000000021 implements MigrationInterface {
  name = 'EnqueueCachedPlans1000000000021';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      variant(
        'sluice_enqueue_few',
        'SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off',
      ),
    );
    await q.query(
      variant('sluice_enqueue_many', 'SET search_path FROM CURRENT SET plan_cache_mode = force_custom_plan'),
    );
    await q.query(`
      CREATE OR REPLACE FUNCTION sluice_enqueue(p_entity text, p_op text, p_source text, p_ids text[], p_payloads jsonb[],
                                                p_ticket uuid, p_notify boolean DEFAULT true, p_route text DEFAULT NULL,
                                                p_payload jsonb DEFAULT NULL, p_tickets uuid[] DEFAULT NULL)
      RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $fn$
      BEGIN
        IF cardinality(p_ids) <= ${FEW_IDS} THEN
          RETURN sluice_enqueue_few(${ARGS});
        END IF;
        RETURN sluice_enqueue_many(${ARGS});
      END
      $fn$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(orderedEnqueue(true));
    await q.query(`
      DROP FUNCTION IF EXISTS sluice_enqueue_few(text, text, text, text[], jsonb[], uuid, boolean, text, jsonb, uuid[]);
      DROP FUNCTION IF EXISTS sluice_enqueue_many(text, text, text, text[], jsonb[], uuid, boolean, text, jsonb, uuid[]);
    `);
  }
}
