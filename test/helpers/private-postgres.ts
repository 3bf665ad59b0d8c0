import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPg } from '../../src/infra/embedded-postgres';
import { freePort } from './ports';

export interface PrivatePostgres {
  url: string;
  /** Stops the server (fast shutdown): clients see their connections drop. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it for good and removes its data folder. */
  close(): Promise<void>;
}

/**
 * A Postgres server of the test's own (embedded, fresh data dir, free port), for tests that stop or
 * restart the database: the shared server of the other test files must never go down.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const home = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const port = await freePort();
  let pg: EmbeddedPg = await startEmbeddedPostgres(home, port);
  const url = await ensureDatabase(pg.serverUrl, 'sluice');
  return {
    url,
    stop: () => pg.stop(),
    start: async () => {
      pg = await startEmbeddedPostgres(home, port);
    },
    close: async () => {
      await pg.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
