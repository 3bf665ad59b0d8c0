import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDataSource } from '../../src/db/data-source';
import { sluiceSchema } from '../../src/db/schema-name';
import { migrate } from '../../src/db/migrate';
import { poolOf } from '../../src/db/pool';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/infra/embedded-postgres';

let embedded: EmbeddedPg | null = null;

/** Postgres server for the run: DATABASE_URL's server, or an embedded one. */
export async function benchServerUrl(): Promise<string> {
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = '';
    return u.toString().replace(/\/$/, '');
  }
  embedded ??= await startEmbeddedPostgres(join('.sluice', 'bench'), 54339);
  return embedded.serverUrl;
}

export async function stopBenchServer(): Promise<void> {
  await embedded?.stop();
  embedded = null;
}

/** A fresh database (migrated for Sluice unless told otherwise), dropped by `drop()`. */
export async function freshDatabase(prefix: string, opts: { migrate?: boolean } = {}) {
  const server = await benchServerUrl();
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${server}/${name}`;
  // The scenarios' own sessions: their tables in public, as a user's; Sluice's found in its schema.
  const ds = createDataSource({
    url,
    poolSize: 12,
    applicationName: 'sluice-bench',
    options: `-c search_path=public,${sluiceSchema()}`,
  });
  await ds.initialize();
  if (opts.migrate !== false) await migrate(ds);
  return {
    url,
    ds,
    pool: poolOf(ds),
    drop: async () => {
      await ds.destroy();
      const c = new Client({ connectionString: `${server}/postgres` });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
