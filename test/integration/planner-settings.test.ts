import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { poolOf } from '../../src/db/pool';
import { Planner } from '../../src/planner/planner';
import { ProcessRegistry } from '../../src/planner/registry';
import { applyConfig, readSettings, updateSettings } from '../../src/planner/settings';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { gateHandler } from '../helpers/planner';
import { api, startTestService } from '../helpers/service';
import { waitFor } from '../helpers/wait';

const silent = { info() {}, warn() {}, error() {} };

describe('one slot limit in the database', () => {
  let db: TestDb;
  const gate = gateHandler();
  const sources: DataSource[] = [];
  const planners: Planner[] = [];

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    for (const n of ['j1', 'j2', 'j3', 'j4', 'j5', 'j6']) if (gate.isRunning(n)) gate.open(n);
    await Promise.all(planners.map((p) => p.stop()));
    await Promise.all(sources.map((s) => s.destroy()));
    await db?.drop();
  });

  it('the environment writes a value only when it changed since it last wrote it; a value set through the API survives a restart with the same environment', async () => {
    expect(await readSettings(db.pool)).toMatchObject({
      maxActive: 5,
      reserveHorizonMinutes: 1440,
      defaultRunMinutes: 10,
      updatedBy: 'default',
      config: {},
    });
    // First start with SLUICE_MAX_ACTIVE=3.
    const first = await applyConfig(db.pool, { maxActive: 3 }, 'a');
    expect(first.applied).toEqual([{ key: 'maxActive', value: 3, was: 5, wasBy: 'default' }]);
    expect(await readSettings(db.pool)).toMatchObject({ maxActive: 3, updatedBy: 'config (a)' });
    // Changed through the API, then a restart with the same environment: the API's value stands.
    await updateSettings(db.pool, { maxActive: 8 }, 'api');
    expect((await applyConfig(db.pool, { maxActive: 3 }, 'a')).applied).toEqual([]);
    expect((await applyConfig(db.pool, {}, 'b')).applied).toEqual([]);
    expect(await readSettings(db.pool)).toMatchObject({ maxActive: 8, updatedBy: 'api' });
    // The environment changed: the newest decision wins.
    expect((await applyConfig(db.pool, { maxActive: 4 }, 'a')).applied).toEqual([
      { key: 'maxActive', value: 4, was: 8, wasBy: 'api' },
    ]);
    expect(await readSettings(db.pool)).toMatchObject({ maxActive: 4, config: { maxActive: 4 } });
  });

  it('a limit changed while two instances plan applies at their next pass, woken at once, on both', async () => {
    await updateSettings(db.pool, { maxActive: 2 }, 'api');
    for (let i = 0; i < 2; i++) {
      const ds = createDataSource({ url: db.url, poolSize: 3, applicationName: `sluice-planner-${i}` });
      await ds.initialize();
      sources.push(ds);
      // No settings from the environment: the database's value rules; a long tick, so only NOTIFY wakes them.
      planners.push(
        new Planner(poolOf(ds), { instance: `inst-${i}`, intervalMs: 600_000, databaseUrl: db.url }, silent),
      );
    }
    await Promise.all(planners.map((p) => p.start()));
    const registry = new ProcessRegistry(db.pool);
    for (const n of ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'])
      await registry.upsert({
        name: n,
        handler: 'gate',
        params: {},
        kind: 'single',
        dependsOn: [],
        priority: 0,
        refreshWindowMinutes: 0,
        enabled: true,
      });
    const running = () => count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`);
    // A run is 'running' in the database a moment before its handler reaches the gate.
    const openRunning = async () => {
      for (const r of (await db.pool.query(`SELECT process FROM sluice_run WHERE status = 'running'`)).rows) {
        await waitFor(() => gate.isRunning(r.process), `${r.process} at its gate`);
        gate.open(r.process);
      }
    };
    await waitFor(async () => (await running()) === 2, 'two runs (limit 2)');

    await updateSettings(db.pool, { maxActive: 5 }, 'api');
    await waitFor(async () => (await running()) === 5, 'five runs once the limit is 5');

    // Lowered below what runs: nothing is stopped, nothing new starts until the count is under it.
    await updateSettings(db.pool, { maxActive: 1 }, 'api');
    for (const p of planners) expect((await p.pass()).started).toEqual([]);
    for (const p of planners) expect(await p.status()).toMatchObject({ maxActive: 1, active: 5 });
    await openRunning();
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'succeeded'`)) === 5,
      'the five finished',
    );
    await waitFor(async () => (await running()) === 1, 'the sixth runs alone under limit 1');
    await openRunning();
  });
});

describe('/v1/planner/settings and time zones through the service', () => {
  let db: TestDb;
  let svc: Awaited<ReturnType<typeof startTestService>> | null = null;
  const env = { SLUICE_MAX_ACTIVE: '3', SLUICE_TIME_ZONE: 'America/New_York', SLUICE_PLANNER_TICK_MS: '200' };

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
  });

  const bad = async (method: string, path: string, body: unknown, status: number, code: string) => {
    const r = await api(svc!, method, path, body);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error.code).toBe(code);
    return r.body.error.message as string;
  };

  it('shows and changes the settings, refuses bad ones with 400, and keeps an API change across a restart with the same environment', async () => {
    svc = await startTestService({ databaseUrl: db.url, kafka: false, env });
    const got = await api(svc, 'GET', '/v1/planner/settings');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ maxActive: 3, reserveHorizonMinutes: 1440, defaultRunMinutes: 10 });
    expect(got.body.updatedBy).toMatch(/^config \(/);

    await bad('PUT', '/v1/planner/settings', {}, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { maxActive: 0 }, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { maxActive: 1001 }, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { maxActive: 2.5 }, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { maxActive: '4' }, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { reserveHorizonMinutes: -1 }, 400, 'invalid_body');
    await bad('PUT', '/v1/planner/settings', { maxActive: 4, slots: 4 }, 400, 'invalid_body');
    expect((await api(svc, 'PUT', '/v1/planner/settings', 'maxActive=4')).status).toBe(400);
    expect((await api(svc, 'GET', '/v1/planner/settings')).body.maxActive).toBe(3);

    const put = await api(svc, 'PUT', '/v1/planner/settings', { maxActive: 7, defaultRunMinutes: 20 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ maxActive: 7, reserveHorizonMinutes: 1440, defaultRunMinutes: 20 });
    expect(put.body.updatedBy).toBe('api');
    expect((await api(svc, 'GET', '/v1/status')).body.planner).toMatchObject({
      maxActive: 7,
      held: [],
      settings: { maxActive: 7, updatedBy: 'api' },
    });
    const docs = await api(svc, 'GET', '/docs/json');
    expect(Object.keys(docs.body.paths['/v1/planner/settings'])).toEqual(['get', 'put']);

    // Restart with the same environment: the API's 7 stands. Then with a changed one: it wins.
    await svc.stop();
    const logs: string[] = [];
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      env,
      logDestination: { write: (line) => logs.push(line) },
    });
    // Said loudly, so a configured 3 that does not apply surprises nobody.
    expect(logs.some((l) => /planner maxActive stays 7, set by api .*SLUICE_MAX_ACTIVE=3/.test(l))).toBe(
      true,
    );
    expect((await api(svc, 'GET', '/v1/planner/settings')).body).toMatchObject({
      maxActive: 7,
      updatedBy: 'api',
    });
    await svc.stop();
    svc = await startTestService({
      databaseUrl: db.url,
      kafka: false,
      env: { ...env, SLUICE_MAX_ACTIVE: '4' },
    });
    expect((await api(svc, 'GET', '/v1/planner/settings')).body.maxActive).toBe(4);
  });

  it('gives a process the configured zone unless it names one, refuses unknown zones, and recomputes the due time when the zone changes', async () => {
    const def = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      handler: 'sync',
      kind: 'recurrent',
      schedule: 'every day at 02:30',
      params: { entity: 'accounts', ids: ['1'] },
      enabled: false,
      ...extra,
    });
    const ny = await api(svc!, 'POST', '/v1/processes', def('ny'));
    expect(ny.status, JSON.stringify(ny.body)).toBe(201);
    expect(ny.body).toMatchObject({
      timeZone: 'America/New_York',
      durations: { samples: 0, p50Ms: null, p90Ms: null },
    });
    expect(new Date(ny.body.nextDueAt).toISOString()).toMatch(/T0[67]:30:00\.000Z$/); // 02:30 EST or EDT

    const paris = await api(svc!, 'POST', '/v1/processes', def('paris', { timeZone: 'europe/paris' }));
    expect(paris.status).toBe(201);
    expect(paris.body.timeZone).toBe('Europe/Paris');
    expect(paris.body.nextDueAt).toMatch(/T0[01]:30:00\.000Z$/); // 02:30 CET or CEST

    const moved = await api(svc!, 'PATCH', '/v1/processes/paris', { timeZone: 'UTC' });
    expect(moved.body).toMatchObject({ timeZone: 'UTC' });
    expect(moved.body.nextDueAt).toMatch(/T02:30:00\.000Z$/);

    const msg = await bad(
      'POST',
      '/v1/processes',
      def('x', { timeZone: 'Mars/Olympus_Mons' }),
      400,
      'invalid_body',
    );
    expect(msg).toBe('invalid process definition');
    await bad('PATCH', '/v1/processes/ny', { timeZone: '+02:00' }, 400, 'invalid_body');
    await bad('POST', '/v1/processes', def('x', { schedule: 'every day at 25:00' }), 400, 'invalid_schedule');
    await bad('POST', '/v1/processes', def('x', { notBefore: '2026-02-30T03:00' }), 400, 'invalid_schedule');
  });
});
