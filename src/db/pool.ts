import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** What the queue operations need: a pg pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

/** The pg pool under a TypeORM data source; hot paths use it directly to skip the query-runner overhead. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as PostgresDriver).master as Pool;
}

export async function rows<T extends QueryResultRow>(
  db: Queryable,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const res = await db.query<T>(text, params);
  return res.rows;
}

/** Runs fn inside BEGIN/COMMIT on one client of the pool. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * A one-dimensional array parameter in Postgres's text form: what pg would send for the same JS array,
 * built for less. pg quotes every element and runs two regex replaces over each (numbers included); here
 * numbers and booleans go bare (their String(), as pg's), null and undefined as NULL, and strings quoted,
 * escaped only when they hold a quote or a backslash. For the hot statements' columnar parameters (a
 * settle sends about seven elements per event).
 */
export function arrayParam(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'string')
      out += NEEDS_ESCAPE.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${v}"`;
    else out += String(v);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /["\\]/;
