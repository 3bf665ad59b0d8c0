/**
 * The one owner of the schema Sluice's tables, functions and sequences live in: SLUICE_SCHEMA, default
 * `sluice`. Every Sluice session starts with its search_path set to it (sessionOptions), so the SQL stays
 * unqualified; what runs in other sessions (the capture triggers, in the writer's) names it explicitly.
 * No zod here: the CLI reads it before loading any schema library.
 */
export const DEFAULT_SCHEMA = 'sluice';

/** Lower-case plain identifiers only: the name goes unquoted into search_path and into libpq options. */
const PLAIN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Why `name` cannot be Sluice's schema, or null when it can. */
export function schemaNameProblem(name: string): string | null {
  if (!PLAIN.test(name))
    return `"${name.slice(0, 80)}" must be a lower-case plain identifier (a-z, 0-9, _; at most 63 chars)`;
  if (name === 'public' || name === 'information_schema' || name.startsWith('pg_'))
    return `"${name}" is a schema Sluice must not own; pick one of its own (default ${DEFAULT_SCHEMA})`;
  return null;
}

/** SLUICE_SCHEMA, validated; throws with the reason when it cannot be used. */
export function sluiceSchema(env: NodeJS.ProcessEnv = process.env): string {
  const name = env.SLUICE_SCHEMA || DEFAULT_SCHEMA;
  const problem = schemaNameProblem(name);
  if (problem) throw new Error(`SLUICE_SCHEMA ${problem}`);
  return name;
}

/**
 * libpq startup options for a Sluice session: search_path on Sluice's schema (nothing else, so an object
 * missing there is an error rather than a silent read of the user's `public`), JIT off, plus any `name=value`.
 *
 * Why JIT off: every statement Sluice runs is short and index-driven, but the planner may price one by the
 * table's size rather than the rows it touches. The claim did (its per-route `LIMIT` was a lateral column, so
 * the planner assumed 10% of the ready rows; claim.ts now bounds it): on a 1,000,000-row queue its estimate
 * (~780,000) passed jit_above_cost and jit_optimize_above_cost (100,000 and 500,000 by default), each claim
 * of 500 rows spent ~460 ms compiling 74 functions for ~5 ms of execution, and the drain fell to ~1,100
 * rows/s (issue #12). JIT off keeps the next such estimate harmless. The capture trigger already turns JIT
 * off for its big statements.
 */
export function sessionOptions(...settings: string[]): string {
  return [`search_path=${sluiceSchema()}`, 'jit=off', ...settings].map((s) => `-c ${s}`).join(' ');
}
