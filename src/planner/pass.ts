import type { PoolClient } from 'pg';
import { rows } from '../db/pool';
import { writeLog, type LogEntry } from './planner-log';
import { plan, type Decision, type PlanProcess } from './rank';
import { countActive, expireStaleRuns } from './runs';
import { nextDue, parseNotBefore, parseSchedule, type NotBefore, type Schedule } from './schedule';

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
}

const date = (ms: string) => (ms === '' ? null : new Date(Number(ms)));
const orNull = (v: string) => (v === '' ? null : v);

// Parsing a cron expression costs more than the rest of a pass: keep the parsed forms.
const scheduleCache = new Map<string, Schedule>();
const notBeforeCache = new Map<string, NotBefore>();
function cached<T>(cache: Map<string, T>, key: string, parse: (s: string) => T): T {
  let v = cache.get(key);
  if (!v) {
    if (cache.size > 50_000) cache.clear();
    cache.set(key, (v = parse(key)));
  }
  return v;
}

/**
 * One planning pass inside the caller's transaction: under the planner lock, fail runs whose instance
 * died, count the active runs (the slot limit lives here, in the database), rank the candidates, and
 * record every start, skip and changed decision. The caller executes `started` after COMMIT.
 */
export async function planningPass(
  c: PoolClient,
  o: { instance: string; maxActive: number; staleMs: number; now: Date; canRun(handler: string): boolean },
): Promise<PassResult> {
  const { now } = o;
  await c.query('SELECT pg_advisory_xact_lock($1)', [PLANNER_LOCK]);
  await expireStaleRuns(c, o.staleMs, now);
  const active = await countActive(c);
  // One delimited string for all candidates: parsing 10,000 typed rows costs more in node-pg than
  // the query itself. Names, schedules and reasons cannot hold the separators (control characters).
  const ms = (col: string) => `coalesce(((extract(epoch FROM ${col}) * 1000)::bigint)::text, '')`;
  const [{ list }] = await rows<{ list: string | null }>(
    c,
    `WITH queued AS (
       SELECT DISTINCT ON (process) process, id, requested_at, trigger FROM sluice_run
        WHERE status = 'queued' ORDER BY process, seq
     ), running AS (SELECT process FROM sluice_run WHERE status = 'running')
     SELECT string_agg(concat_ws(chr(31), p.name, p.handler, p.kind, coalesce(p.schedule, ''),
              coalesce(p.not_before, ''), array_to_string(p.depends_on, ','), p.priority, p.refresh_window_minutes,
              p.alarmed::text, ${ms('p.next_due_at')}, ${ms('p.last_started_at')}, ${ms('p.last_succeeded_at')},
              coalesce(p.last_decision, ''), coalesce(q.id::text, ''), ${ms('q.requested_at')}, coalesce(q.trigger, ''),
              (a.process IS NOT NULL)::text), chr(30)) AS list
       FROM sluice_process p
       LEFT JOIN queued q ON q.process = p.name
       LEFT JOIN running a ON a.process = p.name
      WHERE p.enabled AND (p.next_due_at <= $1 OR q.id IS NOT NULL)`,
    [now],
  );
  const lastDecision = new Map<string, { decision: string | null; alarmed: boolean }>();
  const candidates: PlanProcess[] = [];
  const deps = new Set<string>();
  for (const record of list ? list.split('\x1e') : []) {
    const f = record.split('\x1f');
    const name = f[0];
    const dependsOn = f[5] === '' ? [] : f[5].split(',');
    const alarmed = f[8] === 'true';
    lastDecision.set(name, { decision: orNull(f[12]), alarmed });
    dependsOn.forEach((d) => deps.add(d));
    candidates.push({
      name,
      handler: f[1],
      kind: f[2] as PlanProcess['kind'],
      schedule: f[3] ? cached(scheduleCache, f[3], parseSchedule) : null,
      notBefore: f[4] ? cached(notBeforeCache, f[4], parseNotBefore) : null,
      dependsOn,
      priority: Number(f[6]),
      refreshWindowMinutes: Number(f[7]),
      alarmed,
      nextDueAt: date(f[9]),
      lastStartedAt: date(f[10]),
      lastSucceededAt: date(f[11]),
      queued: f[13]
        ? { runId: f[13], requestedAt: date(f[14])!, trigger: f[15] as 'manual' | 'registered' }
        : null,
      active: f[16] === 'true',
    });
  }
  const succeededAt = new Map<string, Date | null>();
  if (deps.size) {
    const depRows = await rows<{ name: string; last_succeeded_at: Date | null }>(
      c,
      'SELECT name, last_succeeded_at FROM sluice_process WHERE name = ANY ($1::text[])',
      [[...deps]],
    );
    for (const d of depRows) succeededAt.set(d.name, d.last_succeeded_at);
  }

  const decisions = plan({
    now,
    freeSlots: o.maxActive - active,
    maxActive: o.maxActive,
    candidates,
    succeededAt,
    canRun: o.canRun,
  });

  const result: PassResult = {
    started: [],
    skipped: [],
    alarmed: [],
    waiting: 0,
    activeBefore: active,
    candidates: candidates.length,
  };
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
        nextDue(p.schedule!, now),
      ]);
      result.skipped.push(p.name);
      log.push({ process: p.name, decision: 'skipped', reason: d.reason, runId: run.id });
    } else {
      result.waiting++;
      const key = `wait:${d.reason}`;
      const row = lastDecision.get(p.name)!;
      if (row.decision !== key || (d.alarm && !row.alarmed)) {
        waits.push({ name: p.name, decision: key, alarm: d.alarm });
        if (d.alarm && !row.alarmed) result.alarmed.push(p.name);
        log.push({
          process: p.name,
          decision: d.alarm ? 'alarmed' : 'waiting',
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
  await writeLog(c, o.instance, now, log);
  return result;
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
    [p.name, runId, now, d.dueAt && p.schedule ? nextDue(p.schedule, now) : null],
  );
  return runId;
}
