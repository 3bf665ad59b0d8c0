import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count } from '../helpers/db';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres';
import { api } from '../helpers/service';
import { spawnSluice } from '../helpers/sluice-process';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';
import { Pool } from 'pg';
import { sessionOptions } from '../../src/db/schema-name';

describe('a real `sluice start` process', () => {
  let pg: PrivatePostgres;
  let sink: Sink;
  let pool: Pool;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    sink = await startSink();
    pool = new Pool({ connectionString: pg.url, max: 2, options: sessionOptions() });
  });
  afterAll(async () => {
    await pool?.end();
    await sink?.close();
    await pg?.close();
  });

  it('migrates an empty database, delivers a push, and exits 0 on SIGTERM leaving nothing claimed', async () => {
    const proc = await spawnSluice({
      databaseUrl: pg.url,
      kafkaBrokers: null,
      routes: [
        { name: 'crm', match: { entity: 'account' }, connector: 'webhook', options: { url: sink.url } },
      ],
    });
    const res = await api(proc, 'POST', '/v1/events', {
      entity: 'account',
      op: 'insert',
      ids: ['a', 'b', 'c'],
    });
    expect(res.status).toBe(202);
    await waitFor(() => sink.requests.length >= 3, 'three callouts');
    const status = await api(proc, 'GET', '/v1/status');
    expect(status.body.relay.enabled).toBe(false);
    expect(await proc.stop()).toBe(0);
    expect(await count(pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'running'`)).toBe(0);
    expect(await count(pool, `SELECT count(*) AS n FROM sluice_leader WHERE expires_at > now()`)).toBe(0);
  });
});
