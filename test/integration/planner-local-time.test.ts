import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db';
import { gateHandler, testClock, testPlanner } from '../helpers/planner';
import { waitFor } from '../helpers/wait';

describe('local times through the planner and the database (injected clock)', () => {
  let db: TestDb;
  const gate = gateHandler();

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.pool.query('TRUNCATE sluice_process, sluice_run, sluice_planner_log');
  });

  const base = {
    handler: 'gate',
    params: {},
    dependsOn: [],
    priority: 0,
    refreshWindowMinutes: 0,
    enabled: true,
  };
  const started = (r: { started: { process: string }[] }) => r.started.map((s) => s.process);
  const finish = async (process: string) => {
    gate.open(process);
    await waitFor(
      async () =>
        (
          await db.pool.query(`SELECT 1 FROM sluice_run WHERE process = $1 AND status = 'succeeded'`, [
            process,
          ])
        ).rowCount,
      `${process} succeeded`,
    );
  };

  it('Europe/Paris, spring forward: "every day at 02:30" runs at 03:30 CEST on the day without 02:30, and at 02:30 the day after', async () => {
    const clock = testClock('2026-03-28T12:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now });
    const p = await registry.upsert({
      ...base,
      name: 'paris',
      kind: 'recurrent',
      schedule: 'every day at 02:30',
      timeZone: 'Europe/Paris',
    });
    expect(p.process.nextDueAt).toBe('2026-03-29T01:30:00.000Z');
    clock.set('2026-03-29T01:10:00Z'); // 03:10 CEST
    expect(started(await planner.pass())).toEqual([]);
    clock.set('2026-03-29T01:30:00Z'); // 03:30 CEST
    expect(started(await planner.pass())).toEqual(['paris']);
    const after = await registry.get('paris');
    expect(after.lastRun).toMatchObject({ dueAt: '2026-03-29T01:30:00.000Z' });
    expect(after.nextDueAt).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
    await finish('paris');
  });

  it('America/New_York, fall back: "every day at 01:30" runs once, at the first 01:30 (EDT), not again at 01:30 EST', async () => {
    const clock = testClock('2026-10-31T12:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now, timeZone: 'America/New_York' });
    const p = await registry.upsert({
      ...base,
      name: 'ny',
      kind: 'recurrent',
      schedule: 'every day at 01:30',
    });
    expect(p.process).toMatchObject({ timeZone: 'America/New_York', nextDueAt: '2026-11-01T05:30:00.000Z' });
    clock.set('2026-11-01T05:30:00Z');
    expect(started(await planner.pass())).toEqual(['ny']);
    clock.set('2026-11-01T05:45:00Z');
    await finish('ny');
    expect((await registry.get('ny')).nextDueAt).toBe('2026-11-02T06:30:00.000Z');
    clock.set('2026-11-01T06:30:00Z'); // 01:30 EST, the second one
    expect(started(await planner.pass())).toEqual([]);
    const runs = await db.pool.query(`SELECT count(*)::int AS n FROM sluice_run WHERE process = 'ny'`);
    expect(runs.rows[0].n).toBe(1);
  });

  it('notBefore 01:30 on the fall-back day opens at 01:30 EDT and stays open through the repeated hour', async () => {
    const clock = testClock('2026-11-01T05:00:00Z'); // 01:00 EDT
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now, timeZone: 'America/New_York' });
    await registry.upsert({ ...base, name: 'early', kind: 'single', notBefore: '01:30' });
    expect(started(await planner.pass())).toEqual([]);
    clock.set('2026-11-01T05:30:00Z'); // 01:30 EDT
    expect(started(await planner.pass())).toEqual(['early']);
    clock.set('2026-11-01T06:10:00Z'); // 01:10 EST: the clock reads before 01:30 again
    await registry.upsert({ ...base, name: 'late', kind: 'single', notBefore: '01:30' });
    expect(started(await planner.pass())).toEqual(['late']);
    await finish('early');
    await finish('late');
  });
});
