import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, createTestDb, type TestDb } from '../helpers/db';
import { api } from '../helpers/service';
import { spawnSluice, type SluiceProcess } from '../helpers/sluice-process';
import { waitFor } from '../helpers/wait';

describe('three real `sluice start` processes share the planner slots', () => {
  let db: TestDb;
  const procs = new Map<string, SluiceProcess>();

  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await Promise.all([...procs.values()].map((p) => p.exited));
    await db?.drop();
  });

  it('never runs more than SLUICE_MAX_ACTIVE at once, and frees the slots of a process killed mid-run', async () => {
    const spawned = await Promise.all(
      ['p1', 'p2', 'p3'].map((name) =>
        spawnSluice({
          databaseUrl: db.url,
          kafkaBrokers: null,
          env: {
            SLUICE_INSTANCE: name,
            SLUICE_MAX_ACTIVE: '3',
            SLUICE_PLANNER_TICK_MS: '200',
            SLUICE_RUN_STALE_MS: '3000',
            SLUICE_HANDLERS: resolve('test/fixtures/sleepy-handler.ts'),
          },
        }).then((p) => procs.set(name, p)),
      ),
    );
    expect(spawned).toHaveLength(3);
    const total = 12;
    for (let i = 0; i < total; i++) {
      const res = await api(procs.get('p1')!, 'POST', '/v1/processes', {
        name: `job-${i}`,
        handler: 'sleepy',
        kind: 'single',
        params: { ms: 400 + ((i * 131) % 500) },
        priority: i,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    let max = 0;
    let victim: string | null = null;
    let runningAtKill = 0;
    for (let samples = 0; ; samples++) {
      const active = await count(db.pool, `SELECT count(*) AS n FROM sluice_run WHERE status = 'running'`);
      max = Math.max(max, active);
      if (!victim && active > 0) {
        // Kill -9 the process that started a run last (the most work left to lose).
        const { rows } = await db.pool.query<{ instance: string }>(
          `SELECT instance FROM sluice_run WHERE status = 'running' ORDER BY started_at DESC, seq DESC LIMIT 1`,
        );
        if (rows[0]) {
          victim = rows[0].instance;
          procs.get(victim)!.kill('SIGKILL');
          await procs.get(victim)!.exited;
          procs.delete(victim);
          // A dead process finishes nothing: whatever it still runs now must come back as lost.
          runningAtKill = await count(
            db.pool,
            `SELECT count(*) AS n FROM sluice_run WHERE status = 'running' AND instance = $1`,
            [victim],
          );
        }
      }
      const open = await count(
        db.pool,
        `SELECT count(*) AS n FROM sluice_run WHERE status IN ('queued', 'running')`,
      );
      if (open === 0 && samples > 0) break;
      if (samples > 50_000) throw new Error('runs did not finish');
    }
    expect(max).toBeLessThanOrEqual(3);
    expect(max).toBeGreaterThan(1);

    const runs = await db.pool.query<{
      process: string;
      status: string;
      instance: string;
      error: string | null;
    }>(`SELECT process, status, instance, error FROM sluice_run ORDER BY seq`);
    expect(runs.rows).toHaveLength(total);
    const lost = runs.rows.filter((r) => r.status === 'failed');
    expect(runningAtKill).toBeGreaterThan(0);
    expect(lost).toHaveLength(runningAtKill);
    for (const r of lost) {
      expect(r.instance).toBe(victim);
      expect(r.error).toMatch(/^lost: instance .* stopped heartbeating$/);
    }
    expect(runs.rows.filter((r) => r.status === 'succeeded')).toHaveLength(total - lost.length);
    expect(new Set(runs.rows.map((r) => r.instance)).size).toBeGreaterThan(1);

    // The lost ones run again on request, on a survivor.
    const survivor = [...procs.values()][0];
    for (const r of lost)
      expect((await api(survivor, 'POST', `/v1/processes/${r.process}/run`)).status).toBe(202);
    await waitFor(
      async () =>
        (await count(
          db.pool,
          `SELECT count(DISTINCT process) AS n FROM sluice_run WHERE status = 'succeeded'`,
        )) === total,
      'every job succeeded once',
    );
    const status = await api(survivor, 'GET', '/v1/status');
    expect(status.body.planner).toMatchObject({ maxActive: 3, active: 0 });
  });
});
