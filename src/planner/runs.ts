import type { Queryable } from '../db/pool';
import { rows } from '../db/pool';
import type { RunView } from './process-schema';

/** NOTIFY channel that makes every instance run a planning pass (completions and registry changes). */
export const PLANNER_CHANNEL = 'sluice_planner';

export interface RunRow {
  id: string;
  process: string;
  handler: string;
  status: RunView['status'];
  trigger: RunView['trigger'];
  due_at: Date | null;
  requested_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  instance: string | null;
  progress: unknown;
  error: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function runView(r: RunRow): RunView {
  return {
    id: r.id,
    process: r.process,
    handler: r.handler,
    status: r.status,
    trigger: r.trigger,
    dueAt: iso(r.due_at),
    requestedAt: r.requested_at.toISOString(),
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    instance: r.instance,
    progress: r.progress ?? null,
    error: r.error,
  };
}

/**
 * Runs, newest first. A running backfill's progress comes from its checkpoint row, as in status: the
 * run's own copy is only refreshed by the heartbeat and lagged it by seconds (thousands of rows).
 */
export async function listRuns(
  db: Queryable,
  f: { process?: string; active?: boolean; limit: number },
): Promise<RunView[]> {
  const list = await rows<RunRow>(
    db,
    `SELECT r.id, r.process, r.handler, r.status, r.trigger, r.due_at, r.requested_at, r.started_at,
            r.ended_at, r.instance, r.error,
            CASE WHEN b.id IS NULL THEN r.progress
                 ELSE coalesce(r.progress, '{}'::jsonb) || jsonb_build_object(
                   'backfillId', b.id, 'rowsDone', b.rows_done, 'rowsTotal', b.total_rows, 'cursor', b.cursor,
                   'pagesStarted', b.pages_started, 'pagesFinished', b.pages_finished,
                   'pagesSlow', b.pages_slow, 'pagesStopped', b.pages_stopped) END AS progress
       FROM sluice_run r
       LEFT JOIN LATERAL (SELECT * FROM sluice_backfill b
                           WHERE b.run_id = r.id AND b.status = 'running' AND r.status = 'running'
                           ORDER BY b.started_at DESC LIMIT 1) b ON true
      WHERE ($1::text IS NULL OR r.process = $1) AND (NOT $2 OR r.status = 'running')
      ORDER BY r.seq DESC LIMIT $3`,
    [f.process ?? null, f.active ?? false, f.limit],
  );
  return list.map(runView);
}

/** The runs holding slots, with their process's expected run time (p90 of its recent successes). */
export async function runningRuns(
  db: Queryable,
): Promise<{ process: string; startedAt: Date; expectedMs: number | null }[]> {
  const list = await rows<{ process: string; started_at: Date | null; run_p90_ms: number | null }>(
    db,
    `SELECT r.process, r.started_at, p.run_p90_ms FROM sluice_run r
       LEFT JOIN sluice_process p ON p.name = r.process WHERE r.status = 'running'`,
  );
  return list.map((r) => ({
    process: r.process,
    startedAt: r.started_at ?? new Date(0),
    expectedMs: r.run_p90_ms,
  }));
}

export async function countActive(db: Queryable): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM sluice_run WHERE status = 'running'`,
  );
  return r.n;
}

/**
 * Ends a run and records it on its process: the last success and, for a success, its duration among the
 * last 20 (from which the p50 and p90 the planner expects are derived). The NOTIFY is the completion
 * event other instances plan on.
 */
export async function finishRun(
  db: Queryable,
  id: string,
  ok: boolean,
  error: string | null,
  endedAt: Date,
  progress: unknown,
): Promise<void> {
  await db.query(
    `WITH r AS (
       UPDATE sluice_run SET status = $2, error = $3, ended_at = $4, progress = coalesce($5::jsonb, progress)
        WHERE id = $1 AND status = 'running' RETURNING process, started_at, ended_at
     ), d AS (
       SELECT p.name, r.ended_at, CASE WHEN $2 = 'succeeded' AND r.started_at IS NOT NULL
                THEN (p.recent_run_ms || least(greatest(extract(epoch FROM r.ended_at - r.started_at) * 1000, 0), 2147483647)::int)
                     [greatest(1, cardinality(p.recent_run_ms) - 18):]
                ELSE p.recent_run_ms END AS ms
         FROM r JOIN sluice_process p ON p.name = r.process
     )
     UPDATE sluice_process p SET last_succeeded_at = CASE WHEN $2 = 'succeeded' THEN d.ended_at ELSE p.last_succeeded_at END,
            recent_run_ms = d.ms,
            run_p50_ms = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(d.ms) v),
            run_p90_ms = (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(d.ms) v)
       FROM d WHERE p.name = d.name`,
    [
      id,
      ok ? 'succeeded' : 'failed',
      error,
      endedAt,
      progress === undefined ? null : JSON.stringify(progress),
    ],
  );
  await db.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'finished')`);
}

/** Marks this instance's runs alive and stores their progress. */
export async function heartbeatRuns(db: Queryable, runs: { id: string; progress: unknown }[]): Promise<void> {
  if (!runs.length) return;
  await db.query(
    `UPDATE sluice_run r SET heartbeat_at = now(), progress = coalesce(x.progress, r.progress)
       FROM unnest($1::uuid[], $2::jsonb[]) AS x(id, progress)
      WHERE r.id = x.id AND r.status = 'running'`,
    [runs.map((r) => r.id), runs.map((r) => (r.progress === undefined ? null : JSON.stringify(r.progress)))],
  );
}

/** Runs whose instance stopped heartbeating are failed, which frees their slots. */
export async function expireStaleRuns(db: Queryable, staleMs: number, now: Date): Promise<number> {
  const res = await db.query(
    `UPDATE sluice_run SET status = 'failed', ended_at = $2,
            error = 'lost: instance ' || coalesce(instance, '?') || ' stopped heartbeating'
      WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)`,
    [staleMs, now],
  );
  return res.rowCount ?? 0;
}
