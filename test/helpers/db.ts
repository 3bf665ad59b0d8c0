import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { inject } from 'vitest';
import { createDataSource } from '../../src/db/data-source';
import { migrate } from '../../src/db/migrate';
import { poolOf } from '../../src/db/pool';
import { sessionOptions, sluiceSchema } from '../../src/db/schema-name';

export interface TestDb {
  name: string;
  url: string;
  ds: DataSource;
  pool: Pool;
  drop(): Promise<void>;
}

async function admin<T>(server: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: `${server}/postgres` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * The test's own sessions look like a user's psql with `SET search_path = public, sluice`: the tables a test
 * creates land in public (where a user's are), Sluice's are found in its schema. The service under test
 * and the CLI use Sluice's own sessions (its schema alone); migrate() sets its own search_path.
 */
export const USER_AND_SLUICE = `-c search_path=public,${sluiceSchema()}`;

/** A fresh, migrated database of its own for one test file, so tests never see each other's rows. */
export async function createTestDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const server = inject('pgServerUrl');
  const name = `sluice_t_${randomBytes(5).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = `${server}/${name}`;
  const ds = createDataSource({
    url,
    poolSize: 10,
    applicationName: 'sluice-test',
    options: USER_AND_SLUICE,
  });
  await ds.initialize();
  if (opts.migrate !== false) await migrate(ds);
  return {
    name,
    url,
    ds,
    pool: poolOf(ds),
    drop: async () => {
      if (ds.isInitialized) await ds.destroy();
      await admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0].n);
}

/** The drain's connections as the service makes them: Sluice's session options, every statement under a 5 s timeout. */
export function drainSessions(url: string): Pool {
  return new Pool({ connectionString: url, max: 2, options: sessionOptions('statement_timeout=5000') });
}
