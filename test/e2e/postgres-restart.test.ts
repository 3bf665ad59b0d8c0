import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionOptions } from '../../src/db/schema-name';
import { count } from '../helpers/db';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres';
import { api } from '../helpers/service';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

/**
 * Postgres goes away in the middle of a run and comes back: the real `sluice start` process stays up,
 * answers 503 (never a 500, never a crash) while the database is away, reconnects by itself, and every
 * push it acknowledged with a 202 is delivered.
 */
describe('Postgres restarted mid-run', () => {
  let pg: PrivatePostgres;
  let sink: Sink;
  let proc: SluiceProcess;
  let pool: Pool;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    // Slow enough that callouts and settles are in flight when the database goes.
    sink = await startSink(() => ({ delayMs: 30 }));
    proc = await spawnSluice({
      databaseUrl: pg.url,
      kafkaBrokers: null,
      routes: [
        {
          name: 'crm',
          match: { entity: 'account' },
          connector: 'webhook',
          options: { url: `${sink.url}/h` },
        },
      ],
      env: { SLUICE_LEADER_TTL_MS: '2000' },
    });
  });
  afterAll(async () => {
    await pool?.end();
    proc?.kill('SIGKILL');
    await proc?.exited;
    await sink?.close();
    await pg?.close();
  });

  it('answers 503 while the database is away, survives, reconnects and delivers everything it acknowledged', async () => {
    const acked: string[] = [];
    const statuses = new Map<number, number>();
    let n = 0;
    const push = async () => {
      const ids = Array.from({ length: 20 }, () => `r${n++}`);
      const res = await api(proc, 'POST', '/v1/events', { entity: 'account', op: 'update', ids }).catch(
        () => ({ status: -1, body: null }),
      );
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 202) acked.push(...ids);
      return res;
    };

    for (let i = 0; i < 10; i++) expect((await push()).status).toBe(202);
    await pg.stop();
    // While it is away: pushes get a 503 with the documented error, and readiness says so.
    const down = await waitFor(async () => {
      const res = await push();
      return res.status === 503 ? res : null;
    }, 'a 503 while the database is down');
    expect(down.body.error.code).toBe('unavailable');
    for (let i = 0; i < 5; i++) expect((await push()).status).toBe(503);
    expect((await api(proc, 'GET', '/readyz', undefined, {})).status).toBe(503);
    expect((await api(proc, 'GET', '/healthz', undefined, {})).status).toBe(200);

    await pg.start();
    await waitFor(async () => (await push()).status === 202, 'pushes accepted again', { timeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) expect((await push()).status).toBe(202);

    pool = new Pool({ connectionString: pg.url, max: 2, options: sessionOptions() });
    await waitFor(
      async () =>
        (await count(pool, `SELECT count(*) AS n FROM event_queue WHERE state = 'done'`)) >= acked.length,
      'every acknowledged change delivered',
      { timeoutMs: 60_000 },
    );
    const delivered = new Set(
      sink.requests.map((r) => (JSON.parse(r.body) as { recordId: string }).recordId),
    );
    expect(acked.filter((id) => !delivered.has(id))).toEqual([]);
    expect([...statuses.keys()].sort()).toEqual([202, 503]);
    // Still the same process, leading again, and it never crashed.
    expect(proc.child.exitCode).toBeNull();
    expect(proc.output()).not.toMatch(/unhandled|uncaught/i);
    const status = await api(proc, 'GET', '/v1/status');
    expect(status.body.consumer.role).toBe('leader');
    expect(status.body.consumer.batches.finished).toBeGreaterThan(0);
    // The drain's state and batch work in the metrics too.
    await waitFor(async () => (await api(proc, 'GET', '/v1/status')).body.consumer.state === 'idle', 'idle');
    const metrics = await api(proc, 'GET', '/metrics');
    expect(metrics.body).toMatch(/^sluice_drain_leader 1$/m);
    expect(metrics.body).toMatch(/^sluice_drain_state\{state="idle"\} 1$/m);
    expect(metrics.body).toMatch(/^sluice_drain_batch_work\{kind="started"\} \d+$/m);
    expect(metrics.body).toMatch(/^sluice_drain_rearms_total \d+$/m);
    expect(await proc.stop()).toBe(0);
  });
});
