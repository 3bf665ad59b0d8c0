import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { poolOf } from '../../src/db/pool';
import { registerHandler } from '../../src/planner/handlers';
import { Planner } from '../../src/planner/planner';
import { ProcessRegistry } from '../../src/planner/registry';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { waitFor } from '../helpers/wait';

const silent = { info() {}, warn() {}, error() {} };

describe('the slot limit across instances', () => {
  let db: TestDb;
  const sources: DataSource[] = [];
  const planners: Planner[] = [];

  beforeAll(async () => {
    db = await createTestDb();
    registerHandler('sleepy', {
      params: z.object({ ms: z.number().int() }).strict(),
      run: (ctx) => new Promise((r) => setTimeout(r, ctx.params.ms as number)),
    });
  });
  afterAll(async () => {
    await Promise.all(planners.map((p) => p.stop()));
    await Promise.all(sources.map((s) => s.destroy()));
    await db?.drop();
  });

  it('three planners, each with its own pool, never run more than SLUICE_MAX_ACTIVE at once', async () => {
    const registry = new ProcessRegistry(db.pool);
    const total = 40;
    for (let i = 0; i < total; i++) {
      await registry.upsert({
        name: `job-${String(i).padStart(2, '0')}`,
        handler: 'sleepy',
        params: { ms: 30 + ((i * 37) % 120) },
        kind: 'single',
        dependsOn: [],
        priority: i % 7,
        refreshWindowMinutes: 0,
        enabled: true,
      });
    }
    for (let i = 0; i < 3; i++) {
      const ds = createDataSource({ url: db.url, poolSize: 4, applicationName: `sluice-planner-${i}` });
      await ds.initialize();
      sources.push(ds);
      const planner = new Planner(
        poolOf(ds),
        { instance: `inst-${i}`, settings: { maxActive: 5 }, intervalMs: 100, databaseUrl: db.url },
        silent,
      );
      planners.push(planner);
    }
    await Promise.all(planners.map((p) => p.start()));

    // Sample the active count as often as the database answers while they run.
    let max = 0;
    let samples = 0;
    for (;;) {
      const active = await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`);
      max = Math.max(max, active);
      samples++;
      if ((await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'succeeded'`)) === total)
        break;
      if (samples > 20_000) throw new Error('runs did not finish');
    }
    expect(max).toBeLessThanOrEqual(5);
    expect(max).toBeGreaterThan(1);
    expect(samples).toBeGreaterThan(10);
    const byInstance = await db.pool.query<{ instance: string }>(
      `SELECT DISTINCT instance FROM sluice_run WHERE status = 'succeeded'`,
    );
    expect(byInstance.rows.length).toBeGreaterThan(1);
    await waitFor(
      async () => (await count(db.pool, 'SELECT count(*) AS n FROM sluice_run')) === total,
      'no extra runs',
    );
  });
});
