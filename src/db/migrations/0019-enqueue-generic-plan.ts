import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enqueueFunction as lanedEnqueue } from './0017-lanes';

const CUSTOM = 'SET plan_cache_mode = force_custom_plan';

/**
 * 0017's sluice_enqueue planned once per session (force_generic_plan) instead of at every call; `generic:
 * false` is 0017's function itself.
 *
 * 0002 forced per-call plans because a generic plan guessed the batch size and nest-looped through
 * 10,000 ids as if they were 100 (0001's coalescing hashed every live row of the entity). Since 0002
 * every step is linear whatever the guess: the coalescing target is one index probe per change (a
 * correlated subquery), the routes join scans the few routes, and the insert's anti-join against the
 * merged rows is hashed. A generic plan is built from the same fixed guesses whatever the data, so it is
 * one plan, checked by test/integration/enqueue-plan.test.ts (no nested loop between the call's own
 * rows, and 10,000 ids in one call after small calls in the same session). Planning was most of the
 * Postgres CPU of a group commit of small pushes and webhooks (the statement is planned per call).
 */
export const enqueueFunction = (generic: boolean) => {
  const sql = lanedEnqueue(true);
  if (!sql.includes(CUSTOM)) throw new Error('0019: the enqueue function of 0017 changed');
  return generic ? sql.replace(CUSTOM, 'SET plan_cache_mode = force_generic_plan') : sql;
};

export class EnqueueGenericPlan1000000000019 implements MigrationInterface {
  name = 'EnqueueGenericPlan1000000000019';

  async up(q: QueryRunner): Promise<void> {
    await q.query(enqueueFunction(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(enqueueFunction(false));
  }
}
