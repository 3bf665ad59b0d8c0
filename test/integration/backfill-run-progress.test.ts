import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackfills } from '../../src/planner/backfill/checkpoint';
import { listRuns } from '../../src/planner/runs';
import { createTestDb, type TestDb } from '../helpers/db';
import { api, startTestService } from '../helpers/service';
import { startSink, type Sink } from '../helpers/sink';
import { waitFor } from '../helpers/wait';

describe('a backfill run by the planner', () => {
  let db: TestDb;
  let sink: Sink;
  let svc: Awaited<ReturnType<typeof startTestService>>;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSink();
    await db.pool.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, plan text);
      INSERT INTO accounts SELECT g, 'gold' FROM generate_series(1, 50) g;`);
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      routes: [
        { name: 'crm', match: { entity: 'accounts' }, connector: 'webhook', options: { url: sink.url } },
      ],
      backfill: { tables: ['public.accounts'] },
      env: { SLUICE_PLANNER_TICK_MS: '200' },
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await sink?.close();
    await db?.drop();
  });

  it('accepts restart in its params, as the CLI has --restart, and runs from the start with it', async () => {
    const body = {
      name: 'refill',
      handler: 'backfill',
      kind: 'single',
      params: { table: 'accounts', route: 'crm', restart: true },
    };
    const created = await api(svc, 'POST', '/v1/processes', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // A registered single process is started by the planner itself (the registry change wakes it), so the
    // request may find it running already: either way one run goes, with restart in its params.
    const run = await api(svc, 'POST', '/v1/processes/refill/run');
    if (run.status !== 202) expect(run.body.error.code).toBe('already_running');
    await waitFor(async () => {
      const runs = await api(svc, 'GET', '/v1/processes/refill/runs');
      return runs.body.items.some((r: { status: string }) => r.status === 'succeeded');
    }, 'the backfill run to succeed');
    await waitFor(() => sink.requests.length >= 50, 'all 50 rows delivered');
  });

  it("runs and status show the same rows for a running backfill: the checkpoint's, not the heartbeat's older copy", async () => {
    const [{ id: runId }] = (
      await db.pool.query(
        `INSERT INTO sluice_run (process, handler, status, trigger, started_at, heartbeat_at, progress)
         VALUES ('bulk', 'backfill', 'running', 'manual', now(), now(), '{"rowsDone": 5400, "rowsTotal": 90000}')
         RETURNING id`,
      )
    ).rows;
    await db.pool.query(
      `INSERT INTO sluice_backfill (table_name, key_column, route, status, page_size, threads, total_rows, rows_done, run_id)
       VALUES ('public.accounts', 'id', 'crm', 'running', 500, 8, 90000, 23200, $1)`,
      [runId],
    );
    const [run] = await listRuns(db.pool, { process: 'bulk', limit: 1 });
    const [backfill] = (await activeBackfills(db.pool)).filter(
      (b) => b.route === 'crm' && b.rowsDone === 23200,
    );
    expect(backfill.rowsDone).toBe(23200);
    expect(run.progress).toMatchObject({ rowsDone: backfill.rowsDone, rowsTotal: backfill.rowsTotal });
    const status = await api(svc, 'GET', '/v1/status');
    const inStatus = status.body.planner.runs.find((r: { id: string }) => r.id === runId);
    expect(inStatus.progress.rowsDone).toBe(23200);
  });
});
