import type { PoolClient } from 'pg';
import { rows } from '../db/pool';
import { writeLog, type LogEntry } from './planner-log';
import { fill } from './plan';
import { groupOf, rank, type Decision, type PlanInput, type PlanProcess } from './rank';
import { expireStaleRuns, runningRuns } from './runs';
import { readCandidates, readSucceededAt, readUpcoming } from './pass-read';
import { nextDue } from './schedule';
import { readSettings } from './settings';

/** Serialises planning passes of every instance: the slot count and the starts happen under it. */
export const PLANNER_LOCK = 7_311_520_040;

export interface StartedRun {
  runId: string;
  process: string;
  handler: string;
  params: Record<string, unknown>;
}

export interface PassResult {
  started: StartedRun[];
  skipped: string[];
  /** Recurrent processes whose alarm this pass raised (due, no free slot). */
  alarmed: string[];
  waiting: number;
  activeBefore: number;
  candidates: number;
  /** The slot limit this pass enforced (the database's, read under the planner lock). */
  maxActive: number;
  /** Free slots held for upcoming processes, and the candidates that waited for it. */
  held: { process: string; dueAt: string; expectedMinutes: number; heldFrom: string[] }[];
}

/**
 * One planning pass inside the caller's transaction: under the planner lock, fail runs whose instance
 * died, read the shared settings (the slot limit lives here, in the database) and the running runs, rank
 * the candidates against the upcoming fixed starts, and record every start, skip and changed decision.
 * The caller executes `started` after COMMIT.
 */
export async function planningPass(
  c: PoolClient,
  o: { instance: string; staleMs: number; now: Date; canRun(handler: string): boolean },
): Promise<PassResult> {
  const { now } = o;
  await c.query('SELECT pg_advisory_xact_lock($1)', [PLANNER_LOCK]);
  await expireStaleRuns(c, o.staleMs, now);
  const settings = await readSettings(c);
  const running = await runningRuns(c);
  const active = running.length;
  const read = await readCandidates(c, now);
  const candidates = read.map((r) => r.p);
  const lastDecision = new Map(read.map((r) => [r.p.name, r]));
  const decisions = await decide(c, {
    now,
    freeSlots: settings.maxActive - active,
    maxActive: settings.maxActive,
    candidates,
    succeededAt: await readSucceededAt(c, new Set(candidates.flatMap((p) => p.dependsOn))),
    canRun: o.canRun,
    reservation: {
      horizonMs: settings.reserveHorizonMinutes * 60_000,
      defaultRunMs: settings.defaultRunMinutes * 60_000,
    },
    running,
  });

  const result: PassResult = {
    started: [],
    skipped: [],
    alarmed: [],
    waiting: 0,
    activeBefore: active,
    candidates: candidates.length,
    maxActive: settings.maxActive,
    held: [],
  };
  const held = new Map<string, PassResult['held'][number]>();
  const log: LogEntry[] = [];
  const waits: { name: string; decision: string; alarm: boolean }[] = [];
  for (const d of decisions) {
    const p = d.process;
    if (d.action === 'start') {
      const runId = await startRun(c, d, o.instance, now);
      if (!runId) continue;
      result.started.push({ runId, process: p.name, handler: p.handler, params: {} });
      log.push({ process: p.name, decision: 'started', reason: d.reason, runId });
    } else if (d.action === 'skip') {
      const [run] = await rows<{ id: string }>(
        c,
        `INSERT INTO sluice_run (process, handler, status, trigger, due_at, requested_at, ended_at, error)
         VALUES ($1, $2, 'skipped', 'schedule', $3, $4, $4, $5) RETURNING id`,
        [p.name, p.handler, d.dueAt, now, d.reason],
      );
      await c.query(`UPDATE sluice_process SET next_due_at = $2, last_decision = 'skipped' WHERE name = $1`, [
        p.name,
        nextDue(p.schedule!, now, p.timeZone),
      ]);
      result.skipped.push(p.name);
      log.push({ process: p.name, decision: 'skipped', reason: d.reason, runId: run.id });
    } else {
      result.waiting++;
      if (d.heldFor) {
        const h = d.heldFor;
        const entry = held.get(h.name) ?? {
          process: h.name,
          dueAt: new Date(h.at).toISOString(),
          expectedMinutes: Math.round(h.expectedMs / 60_000),
          heldFrom: [],
        };
        entry.heldFrom.push(p.name);
        held.set(h.name, entry);
      }
      const key = `wait:${d.reason}`;
      const row = lastDecision.get(p.name)!;
      if (row.lastDecision !== key || (d.alarm && !row.p.alarmed)) {
        // Only changes are logged (and written), so a steady backlog costs no writes per pass.
        waits.push({ name: p.name, decision: key, alarm: d.alarm });
        if (d.alarm && !row.p.alarmed) result.alarmed.push(p.name);
        log.push({
          process: p.name,
          decision: d.alarm ? 'alarmed' : d.heldFor ? 'held' : 'waiting',
          reason: d.reason,
          runId: p.queued?.runId ?? null,
        });
      }
    }
  }
  if (waits.length) {
    // Only changes are written, so a steady backlog costs no writes per pass.
    await c.query(
      `UPDATE sluice_process p SET last_decision = x.decision, alarmed = p.alarmed OR x.alarm
         FROM unnest($1::text[], $2::text[], $3::bool[]) AS x(name, decision, alarm) WHERE p.name = x.name`,
      [waits.map((w) => w.name), waits.map((w) => w.decision), waits.map((w) => w.alarm)],
    );
  }
  if (result.started.length) {
    // Handler arguments are read only for what starts: most candidates wait.
    const params = await rows<{ name: string; params: Record<string, unknown> }>(
      c,
      'SELECT name, params FROM sluice_process WHERE name = ANY ($1::text[])',
      [result.started.map((s) => s.process)],
    );
    const byName = new Map(params.map((p) => [p.name, p.params]));
    for (const s of result.started) s.params = byName.get(s.process) ?? {};
  }
  result.held = [...held.values()];
  await writeLog(c, o.instance, now, log);
  return result;
}

type Rank = { group: number; priority: number };
const key = (p: PlanProcess): Rank => ({ group: groupOf(p), priority: p.priority });

/**
 * plan() with the upcoming processes it needs, read in two steps: those that outrank the candidates
 * that would take the free slots anyway (usually none), and, only if a hold sends the walk further
 * down, the rest of those that outrank the last ready candidate.
 */
async function decide(c: PoolClient, input: PlanInput): Promise<Decision[]> {
  const ranked = rank(input);
  const r = input.reservation!;
  if (input.freeSlots <= 0 || r.horizonMs <= 0 || !ranked.ready.length) return fill(input, ranked)!;
  const until = new Date(input.now.getTime() + r.horizonMs);
  let upcoming: PlanProcess[] = [];
  let above: Rank | null = null;
  const step = async (bound: Rank) => {
    const more = await readUpcoming(c, input.now, until, bound, above);
    const deps = new Set(more.flatMap((p) => p.dependsOn).filter((d) => !input.succeededAt.has(d)));
    for (const [k, v] of await readSucceededAt(c, deps)) input.succeededAt.set(k, v);
    upcoming = upcoming.concat(more);
    above = bound;
    // Stops (null) where it would need upcoming processes not read yet.
    return fill({ ...input, upcoming }, ranked, bound);
  };
  return (
    (await step(key(ranked.ready[Math.min(input.freeSlots, ranked.ready.length) - 1]))) ??
    (await step(key(ranked.ready[ranked.ready.length - 1])))!
  );
}

async function startRun(
  c: PoolClient,
  d: Extract<Decision, { action: 'start' }>,
  instance: string,
  now: Date,
): Promise<string | null> {
  const p = d.process;
  let runId: string | null = null;
  if (d.runId) {
    const [r] = await rows<{ id: string }>(
      c,
      `UPDATE sluice_run SET status = 'running', handler = $2, started_at = $3, heartbeat_at = now(), instance = $4, due_at = $5
        WHERE id = $1 AND status = 'queued' RETURNING id`,
      [d.runId, p.handler, now, instance, d.dueAt],
    );
    runId = r?.id ?? null;
  } else {
    const [r] = await rows<{ id: string }>(
      c,
      `INSERT INTO sluice_run (process, handler, status, trigger, due_at, requested_at, started_at, heartbeat_at, instance)
       VALUES ($1, $2, 'running', 'schedule', $3, $4, $4, now(), $5) RETURNING id`,
      [p.name, p.handler, d.dueAt, now, instance],
    );
    runId = r.id;
  }
  if (!runId) return null;
  await c.query(
    `UPDATE sluice_process SET alarmed = false, last_run_id = $2, last_started_at = $3, last_decision = 'started',
            next_due_at = CASE WHEN $4::timestamptz IS NOT NULL THEN $4 ELSE next_due_at END
      WHERE name = $1`,
    [p.name, runId, now, d.dueAt && p.schedule ? nextDue(p.schedule, now, p.timeZone) : null],
  );
  return runId;
}
