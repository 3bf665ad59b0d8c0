import { Planner } from '../../src/planner/planner';
import { plan } from '../../src/planner/plan';
import { type PlanProcess } from '../../src/planner/rank';
import { parseSchedule } from '../../src/planner/schedule';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/types';

const silent = { info() {}, warn() {}, error() {} };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x: number) => Number(x.toFixed(1));

/**
 * A planning pass with `total` registered processes: 20% recurrent and due, 10% single with a queued
 * request, the rest not due (due within the hour: all of them are upcoming fixed starts for slot
 * reservation); a tenth depend on another process, a third run on Europe/Paris time, every process has
 * measured run times (p90 15-90 min), and ten top-priority processes are due in 30 minutes. The value is
 * the pass after a completion with reservation on: one slot free, every candidate ranked against the
 * forecast, the best one started. Also measured in the same run: that pass with reservation off (the
 * reference), the pass that holds the free slot from nearly every candidate (alarms cleared, so the
 * top-priority processes outrank them), the first pass (it logs a decision per candidate) and a
 * saturated pass (no slot free, so no forecast).
 */
async function plannerPass(ctx: BenchContext, total: number): Promise<ScenarioResult[]> {
  const db = await ctx.freshDatabase('bench_planner');
  try {
    const now = new Date('2026-03-10T12:00:00Z');
    await db.pool.query(
      `INSERT INTO sluice_process (name, handler, params, kind, schedule, not_before, depends_on, priority, next_due_at,
                                   time_zone, recent_run_ms, run_p50_ms, run_p90_ms)
       SELECT 'p' || g, 'sync', '{"entity":"a","ids":["1"]}',
              CASE WHEN g % 10 < 8 THEN 'recurrent' ELSE 'single' END,
              CASE WHEN g % 10 < 8 THEN (CASE WHEN g % 2 = 0 THEN 'every 15m' ELSE '0 3 * * *' END) END,
              CASE WHEN g % 7 = 0 THEN '01:00' END,
              CASE WHEN g % 10 = 5 AND g > 1 THEN ARRAY['p' || (g - 1)] ELSE '{}' END,
              g % 100,
              CASE WHEN g % 10 < 2 THEN $1::timestamptz - interval '1 minute'
                   WHEN g % 10 < 8 THEN $1::timestamptz + interval '1 hour' END,
              CASE WHEN g % 3 = 0 THEN 'Europe/Paris' ELSE 'UTC' END,
              ARRAY[d.ms], d.ms, d.ms
         FROM generate_series(1, $2) g,
              LATERAL (SELECT CASE WHEN g % 10 < 8 THEN (g % 6 + 3) * 900000 ELSE 1200000 END AS ms) d`,
      [now, total],
    );
    await db.pool.query(
      `INSERT INTO sluice_process (name, handler, params, kind, schedule, priority, next_due_at, recent_run_ms, run_p50_ms, run_p90_ms)
       SELECT 'top' || g, 'sync', '{"entity":"a","ids":["1"]}', 'recurrent', 'every day at 12:30', 1000,
              $1::timestamptz + interval '30 minutes', '{1200000}', 1200000, 1200000
         FROM generate_series(1, 10) g`,
      [now],
    );
    await db.pool.query(
      `INSERT INTO sluice_run (process, handler, status, trigger, requested_at)
       SELECT name, handler, 'queued', 'registered', $1 FROM sluice_process WHERE kind = 'single'`,
      [now],
    );
    // Five long runs hold every slot.
    await db.pool.query(
      `INSERT INTO sluice_run (process, handler, status, trigger, requested_at, started_at, heartbeat_at, instance)
       SELECT 'busy' || g, 'sync', 'running', 'manual', $1, $1, now() + interval '1 day', 'other' FROM generate_series(1, 5) g`,
      [now],
    );
    await db.pool.query('VACUUM ANALYZE');
    const planner = new Planner(
      db.pool,
      { instance: 'bench', settings: { maxActive: 5, reserveHorizonMinutes: 1440 }, clock: () => now },
      silent,
    );
    const timePass = async () => {
      const t = process.hrtime.bigint();
      const r = await planner.pass();
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
    };
    const horizon = (minutes: number) =>
      db.pool.query('UPDATE sluice_planner_settings SET reserve_horizon_minutes = $1', [minutes]);
    const first = await timePass();
    const saturated: number[] = [];
    for (let i = 0; i < 20; i++) saturated.push((await timePass()).ms);
    // The pass that matters: a completion frees a slot and the pass fills it.
    await db.pool.query(
      `UPDATE sluice_run SET status = 'succeeded', ended_at = now() WHERE process = 'busy1'`,
    );
    const freeSlotPasses = async () => {
      const ms: number[] = [];
      const held: number[] = [];
      const cpu = process.cpuUsage();
      for (let i = 0; i < 20; i++) {
        const t = await timePass();
        ms.push(t.ms);
        held.push(t.r.held.reduce((n, h) => n + h.heldFrom.length, 0));
        if (t.r.started.length !== 1) throw new Error(`expected one start, got ${t.r.started.length}`);
        // Finish it outside the timing so the next pass has a free slot again.
        await db.pool.query(`UPDATE sluice_run SET status = 'succeeded', ended_at = now() WHERE id = $1`, [
          t.r.started[0].runId,
        ]);
      }
      const { user, system } = process.cpuUsage(cpu);
      return { ms, cpuMsPerPass: (user + system) / 1000 / 20, heldMedian: median(held) };
    };
    await horizon(0);
    const off = await freeSlotPasses();
    await horizon(1440);
    const on = await freeSlotPasses();
    // Cleared alarms: the due candidates rank below the top-priority processes due in 30 minutes.
    await db.pool.query('UPDATE sluice_process SET alarmed = false');
    await timePass().then((t) =>
      db.pool.query(`UPDATE sluice_run SET status = 'succeeded', ended_at = now() WHERE id = ANY ($1)`, [
        t.r.started.map((s) => s.runId),
      ]),
    );
    const holding = await freeSlotPasses();

    // The pure ranking and forecast alone, on the same number of candidates and upcoming processes.
    const every15 = parseSchedule('every 15m');
    const proc = (i: number, o: Partial<PlanProcess>): PlanProcess => ({
      name: `p${i}`,
      handler: 'sync',
      kind: 'recurrent',
      schedule: every15,
      notBefore: null,
      timeZone: 'UTC',
      dependsOn: [],
      priority: i % 100,
      refreshWindowMinutes: 0,
      alarmed: false,
      nextDueAt: new Date(now.getTime() + 3_600_000),
      lastStartedAt: null,
      lastSucceededAt: null,
      expectedMs: ((i % 6) + 1) * 900_000,
      queued: null,
      active: false,
      ...o,
    });
    const candidates = Array.from({ length: first.r.candidates }, (_, i) =>
      proc(i, {
        kind: i % 3 ? 'recurrent' : 'single',
        schedule: i % 3 ? every15 : null,
        dependsOn: i % 10 === 5 ? [`p${i - 1}`] : [],
        alarmed: i % 17 === 0,
        nextDueAt: i % 3 ? new Date(now.getTime() - 60_000) : null,
        queued: i % 3 ? null : { runId: `r${i}`, requestedAt: now, trigger: 'registered' },
      }),
    );
    const upcoming = Array.from({ length: Math.round(total * 0.6) }, (_, i) => proc(100_000 + i, {}));
    const succeededAt = new Map(candidates.map((c) => [c.name, now]));
    const rankMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = process.hrtime.bigint();
      plan({
        now,
        freeSlots: 1,
        maxActive: 5,
        candidates,
        succeededAt,
        canRun: () => true,
        reservation: { horizonMs: 86_400_000, defaultRunMs: 600_000 },
        running: [1, 2, 3, 4].map((n) => ({ process: `busy${n}`, startedAt: now, expectedMs: null })),
        upcoming,
      });
      rankMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const label = `${total.toLocaleString('en-US')} registered processes (${first.r.candidates.toLocaleString('en-US')} candidates`;
    const common = { registered: total, candidates: first.r.candidates };
    const figures = (x: typeof on) => ({
      medianMs: r1(median(x.ms)),
      maxMs: r1(Math.max(...x.ms)),
      nodeCpuMsPerPass: r1(x.cpuMsPerPass),
      candidatesHeldMedian: x.heldMedian,
    });
    return [
      {
        id: `planner-pass-noreserve-${total}`,
        name: `planning pass, ${label}), reservation off`,
        unit: 'ms',
        better: 'lower',
        value: r1(median(off.ms)),
        detail: { ...common, ...figures(off) },
      },
      {
        id: `planner-pass-${total}`,
        name: `planning pass with slot reservation, ${label}; goal <= 50 ms)`,
        unit: 'ms',
        better: 'lower',
        value: r1(median(on.ms)),
        compareTo: [`planner-pass-noreserve-${total}`],
        detail: {
          ...common,
          goalMs: 50,
          ...figures(on),
          firstPassMs: r1(first.ms),
          saturatedPassMedianMs: r1(median(saturated)),
          rankAndForecastOnlyMedianMs: Number(median(rankMs).toFixed(2)),
        },
      },
      {
        id: `planner-pass-holding-${total}`,
        name: `planning pass holding the free slot from nearly every candidate (stress), ${label})`,
        unit: 'ms',
        better: 'lower',
        value: r1(median(holding.ms)),
        compareTo: [`planner-pass-noreserve-${total}`],
        detail: { ...common, ...figures(holding) },
      },
    ];
  } finally {
    await db.drop();
  }
}

export const plannerPassScenario: Scenario = {
  id: 'planner-pass',
  title: 'One planning pass over 10,000 registered processes',
  run: async (ctx, { quick }) => plannerPass(ctx, quick ? 2_000 : 10_000),
};
