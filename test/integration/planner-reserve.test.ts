import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { updateSettings } from '../../src/planner/settings';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { gateHandler, testClock, testPlanner } from '../helpers/planner';
import { waitFor } from '../helpers/wait';

const MIN = 60_000;

describe('slot reservation through the real database (injected clock)', () => {
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

  const started = (r: { started: { process: string }[] }) => r.started.map((s) => s.process).sort();
  const running = () => count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`);
  const status = async (process: string) =>
    (
      await db.pool.query<{ status: string }>(
        `SELECT status FROM sluice_run WHERE process = $1 AND status <> 'skipped' ORDER BY seq DESC LIMIT 1`,
        [process],
      )
    ).rows[0]?.status;
  const finish = async (process: string) => {
    gate.open(process);
    await waitFor(async () => (await status(process)) === 'succeeded', `${process} succeeded`);
  };
  const longs = ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'];

  /**
   * nightly (priority 100, every day at 03:00) has run three times, 14 min each. At 00:00 five long
   * single runs take every slot (expected 60 min: the default, they never ran) and overrun; l6 waits.
   * At 02:30 l1 ends and frees one slot.
   */
  async function setUp(o: { reserve: boolean; nightlyEnabled?: boolean }) {
    const clock = testClock('2026-03-09T22:00:00Z');
    const { planner, registry } = testPlanner(db.pool, {
      clock: clock.now,
      maxActive: 5,
      reserveHorizonMinutes: o.reserve ? 1440 : 0,
    });
    await updateSettings(db.pool, { defaultRunMinutes: 60 }, 'api');
    const base = { handler: 'gate', params: {}, dependsOn: [], refreshWindowMinutes: 0, enabled: true };
    await registry.upsert({
      ...base,
      name: 'nightly',
      kind: 'recurrent',
      schedule: 'every day at 03:00',
      priority: 100,
    });
    for (let i = 0; i < 3; i++) {
      await registry.requestRun('nightly');
      expect(started(await planner.pass())).toEqual(['nightly']);
      clock.advance(14 * MIN);
      await finish('nightly');
    }
    expect((await registry.get('nightly')).durations).toEqual({
      samples: 3,
      p50Ms: 14 * MIN,
      p90Ms: 14 * MIN,
    });
    if (o.nightlyEnabled === false) await registry.patch('nightly', { enabled: false });

    clock.set('2026-03-10T00:00:00Z');
    for (const n of longs) await registry.upsert({ ...base, name: n, kind: 'single', priority: 0 });
    expect(started(await planner.pass())).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
    clock.set('2026-03-10T02:30:00Z');
    await finish('l1');
    return { clock, planner, registry };
  }

  const drain = async (names: string[]) => {
    for (const n of names) if (gate.isRunning(n)) await finish(n);
  };

  it('with reservation off, the 03:00 process starts late: l6 takes the freed slot at 02:30', async () => {
    const { clock, planner, registry } = await setUp({ reserve: false });
    expect(started(await planner.pass())).toEqual(['l6']);
    clock.set('2026-03-10T03:00:00Z');
    expect(started(await planner.pass())).toEqual([]);
    expect((await registry.get('nightly')).alarmed).toBe(true);
    clock.set('2026-03-10T03:40:00Z');
    await finish('l2');
    expect(started(await planner.pass())).toEqual(['nightly']);
    expect((await registry.get('nightly')).lastRun).toMatchObject({
      dueAt: '2026-03-10T03:00:00.000Z',
      startedAt: '2026-03-10T03:40:00.000Z',
    });
    await drain(['nightly', 'l3', 'l4', 'l5', 'l6']);
  });

  it('with reservation on, the freed slot is held and the 03:00 process starts on time while the other slots stay busy', async () => {
    const { clock, planner, registry } = await setUp({ reserve: true });
    const at0230 = await planner.pass();
    expect(started(at0230)).toEqual([]);
    expect(at0230.held).toEqual([
      { process: 'nightly', dueAt: '2026-03-10T03:00:00.000Z', expectedMinutes: 14, heldFrom: ['l6'] },
    ]);
    expect((await planner.status()).held).toEqual(at0230.held);
    const log = await db.pool.query(
      `SELECT decision, reason FROM sluice_planner_log WHERE process = 'l6' ORDER BY id DESC LIMIT 1`,
    );
    expect(log.rows[0]).toEqual({
      decision: 'held',
      reason: 'slot held for nightly due 03:00, expected 14 min',
    });
    expect(await running()).toBe(4);

    clock.set('2026-03-10T03:00:00Z');
    expect(started(await planner.pass())).toEqual(['nightly']);
    expect((await registry.get('nightly')).lastRun).toMatchObject({
      dueAt: '2026-03-10T03:00:00.000Z',
      startedAt: '2026-03-10T03:00:00.000Z',
    });
    expect(await running()).toBe(5);
    for (const n of ['l2', 'l3', 'l4', 'l5']) expect(await status(n)).toBe('running');

    // nightly done at 03:14: nothing is due any more, so l6 gets the slot.
    clock.set('2026-03-10T03:14:00Z');
    await finish('nightly');
    expect(started(await planner.pass())).toEqual(['l6']);
    await drain(['l2', 'l3', 'l4', 'l5', 'l6']);
  });

  it('with reservation on and nothing due, every one of the 5 slots is used', async () => {
    const { planner } = await setUp({ reserve: true, nightlyEnabled: false });
    const p = await planner.pass();
    expect(started(p)).toEqual(['l6']);
    expect(p.held).toEqual([]);
    expect(await running()).toBe(5);
    await drain(['l2', 'l3', 'l4', 'l5', 'l6']);
  });
});
