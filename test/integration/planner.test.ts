import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { gateHandler, testClock, testPlanner } from '../helpers/planner';
import { waitFor } from '../helpers/wait';

describe('planner: slots, alarms, dependencies, notBefore, priorities (injected clock)', () => {
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

  const single = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    handler: 'gate',
    kind: 'single' as const,
    params: {},
    dependsOn: [],
    priority: 0,
    refreshWindowMinutes: 0,
    enabled: true,
    ...extra,
  });
  const started = (r: { started: { process: string }[] }) => r.started.map((s) => s.process).sort();
  const runStatus = async (process: string) =>
    (
      await db.pool.query<{ status: string }>(
        `SELECT status FROM sluice_run WHERE process = $1 AND status <> 'skipped' ORDER BY seq DESC LIMIT 1`,
        [process],
      )
    ).rows[0]?.status;
  const finished = (process: string, status = 'succeeded') =>
    waitFor(async () => (await runStatus(process)) === status, `${process} ${status}`);

  it('process A at 03:00 with top priority gets the first free slot when every slot is busy (alarmed)', async () => {
    const clock = testClock('2026-03-10T02:59:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now, maxActive: 5 });
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5']) await registry.upsert(single(n));
    expect(started(await planner.pass())).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);

    await registry.upsert({ ...single('a'), kind: 'recurrent', schedule: '0 3 * * *', priority: 100 });
    // A single process of even higher priority competes for the same slot.
    await registry.upsert(single('s', { priority: 1000 }));
    expect((await registry.get('a')).nextDueAt).toBe('2026-03-10T03:00:00.000Z');
    expect(started(await planner.pass())).toEqual([]); // 02:59: A is not due yet, S has no slot

    clock.set('2026-03-10T03:00:00Z');
    const atThree = await planner.pass();
    expect(started(atThree)).toEqual([]);
    expect((await registry.get('a')).alarmed).toBe(true);
    const log = await db.pool.query(
      `SELECT decision, reason FROM sluice_planner_log WHERE process = 'a' ORDER BY id`,
    );
    expect(log.rows.at(-1)).toMatchObject({ decision: 'alarmed' });
    expect(log.rows.at(-1).reason).toMatch(/no free slot/);

    gate.open('f3');
    await finished('f3');
    const next = await planner.pass();
    expect(started(next)).toEqual(['a']); // alarmed recurrent beats a single of priority 1000
    const a = await registry.get('a');
    expect(a.alarmed).toBe(false);
    expect(a.lastRun).toMatchObject({
      status: 'running',
      trigger: 'schedule',
      dueAt: '2026-03-10T03:00:00.000Z',
    });
    expect(a.nextDueAt).toBe('2026-03-11T03:00:00.000Z');
    expect(await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`)).toBe(5);

    gate.open('f1');
    await finished('f1');
    expect(started(await planner.pass())).toEqual(['s']);
    for (const n of ['a', 'f2', 'f4', 'f5', 's']) gate.open(n);
    await waitFor(
      async () =>
        (await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`)) === 0,
      'all done',
    );
  });

  it('C waits until A and B succeeded in the current cycle, and a failed A keeps it waiting', async () => {
    const clock = testClock('2026-03-10T10:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now });
    await registry.upsert(single('a'));
    await registry.upsert(single('b'));
    await registry.upsert(single('c', { dependsOn: ['a', 'b'], priority: 50 }));
    expect(started(await planner.pass())).toEqual(['a', 'b']);
    const why = await db.pool.query(
      `SELECT reason FROM sluice_planner_log WHERE process = 'c' ORDER BY id DESC LIMIT 1`,
    );
    expect(why.rows[0].reason).toBe('waiting for a, b to succeed in this cycle');

    gate.fail('a', 'upstream down');
    await finished('a', 'failed');
    gate.open('b');
    await finished('b');
    expect(started(await planner.pass())).toEqual([]);
    expect(
      (
        await db.pool.query(
          `SELECT reason FROM sluice_planner_log WHERE process = 'c' ORDER BY id DESC LIMIT 1`,
        )
      ).rows[0].reason,
    ).toBe('waiting for a to succeed in this cycle');

    await registry.requestRun('a');
    expect(started(await planner.pass())).toEqual(['a']);
    gate.open('a');
    await finished('a');
    expect(started(await planner.pass())).toEqual(['c']);
    gate.open('c');
    await finished('c');
  });

  it('C after A and B and not before 03:00', async () => {
    const clock = testClock('2026-03-10T01:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now });
    await registry.upsert(single('a'));
    await registry.upsert(single('b'));
    await registry.upsert(single('c', { dependsOn: ['a', 'b'], notBefore: '03:00' }));
    expect(started(await planner.pass())).toEqual(['a', 'b']);
    gate.open('a');
    gate.open('b');
    await finished('a');
    await finished('b');
    clock.set('2026-03-10T02:59:00Z');
    expect(started(await planner.pass())).toEqual([]);
    const why = await db.pool.query(
      `SELECT reason FROM sluice_planner_log WHERE process = 'c' ORDER BY id DESC LIMIT 1`,
    );
    expect(why.rows[0].reason).toBe('not before 03:00');
    clock.set('2026-03-10T03:00:00Z');
    expect(started(await planner.pass())).toEqual(['c']);
    gate.open('c');
    await finished('c');
  });

  it('a priority changed while others run takes effect on the next pass', async () => {
    const clock = testClock('2026-03-10T12:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now, maxActive: 1 });
    await registry.upsert(single('busy'));
    expect(started(await planner.pass())).toEqual(['busy']);
    await registry.upsert(single('p', { priority: 1 }));
    await registry.upsert(single('q', { priority: 2 }));
    expect(started(await planner.pass())).toEqual([]);
    await registry.patch('p', { priority: 10 });
    gate.open('busy');
    await finished('busy');
    expect(started(await planner.pass())).toEqual(['p']);
    gate.open('p');
    await finished('p');
    expect(started(await planner.pass())).toEqual(['q']);
    gate.open('q');
    await finished('q');
  });

  it('a recurrent run that falls due while the previous one is active is recorded as skipped, not queued', async () => {
    const clock = testClock('2026-03-10T12:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now });
    await registry.upsert({ ...single('r'), kind: 'recurrent', schedule: 'every 10m' });
    expect(started(await planner.pass())).toEqual(['r']);
    clock.advance(10 * 60_000);
    const p = await planner.pass();
    expect(p.skipped).toEqual(['r']);
    expect(started(p)).toEqual([]);
    const runs = await db.pool.query(`SELECT status FROM sluice_run WHERE process = 'r' ORDER BY seq`);
    expect(runs.rows.map((r) => r.status)).toEqual(['running', 'skipped']);
    gate.open('r');
    await finished('r');
    expect(started(await planner.pass())).toEqual([]); // the skipped slot is not made up
    clock.advance(10 * 60_000);
    expect(started(await planner.pass())).toEqual(['r']);
    gate.open('r');
    await finished('r');
  });

  it('the refresh window holds a scheduled rerun back, a manual run goes through', async () => {
    const clock = testClock('2026-03-10T12:00:00Z');
    const { planner, registry } = testPlanner(db.pool, { clock: clock.now });
    await registry.upsert({
      ...single('w'),
      kind: 'recurrent',
      schedule: 'every 5m',
      refreshWindowMinutes: 30,
    });
    expect(started(await planner.pass())).toEqual(['w']);
    gate.open('w');
    await finished('w');
    clock.advance(5 * 60_000);
    expect(started(await planner.pass())).toEqual([]);
    const why = await db.pool.query(
      `SELECT reason FROM sluice_planner_log WHERE process = 'w' ORDER BY id DESC LIMIT 1`,
    );
    expect(why.rows[0].reason).toMatch(/refresh window 30 min/);
    await registry.requestRun('w');
    expect(started(await planner.pass())).toEqual(['w']);
    gate.open('w');
    await finished('w');
  });

  it('refuses a dependency cycle, an unknown dependency and an unknown handler', async () => {
    const { registry } = testPlanner(db.pool);
    await registry.upsert(single('x'));
    await registry.upsert(single('y', { dependsOn: ['x'] }));
    await expect(registry.patch('x', { dependsOn: ['y'] })).rejects.toMatchObject({
      code: 'dependency_cycle',
      message: 'dependency cycle refused: x -> y -> x',
    });
    await expect(registry.upsert(single('z', { dependsOn: ['z'] }))).rejects.toMatchObject({
      code: 'dependency_cycle',
    });
    await expect(registry.upsert(single('z', { dependsOn: ['nope'] }))).rejects.toMatchObject({
      code: 'unknown_dependency',
    });
    await expect(registry.upsert(single('z', { handler: 'nope' }))).rejects.toMatchObject({
      code: 'unknown_handler',
    });
    await expect(registry.remove('x')).rejects.toMatchObject({ code: 'has_dependents' });
    expect((await registry.get('x')).dependsOn).toEqual([]);
  });
});
