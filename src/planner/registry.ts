import type { Pool, PoolClient } from 'pg';
import { inTransaction, rows } from '../db/pool';
import { SluiceError } from '../lib/errors';
import { findCycle } from './cycle';
import { getHandler } from './handlers';
import type { ProcessBody, ProcessPatch, ProcessView } from './process-schema';
import { PLANNER_CHANNEL, runView, type RunRow } from './runs';
import { firstDue, parseNotBefore, parseSchedule, ScheduleError } from './schedule';

/** Serialises registry writes, so two concurrent changes cannot build a cycle between them. */
const REGISTRY_LOCK = 7_311_520_041;

export interface ProcessRow {
  name: string;
  handler: string;
  params: Record<string, unknown>;
  kind: 'recurrent' | 'single';
  schedule: string | null;
  not_before: string | null;
  time_zone: string;
  depends_on: string[];
  priority: number;
  refresh_window_minutes: number;
  enabled: boolean;
  alarmed: boolean;
  next_due_at: Date | null;
  last_run_id: string | null;
  last_started_at: Date | null;
  last_succeeded_at: Date | null;
  recent_run_ms: number[];
  run_p50_ms: number | null;
  run_p90_ms: number | null;
  created_at: Date;
  updated_at: Date;
}

/** Error codes of the registry and the HTTP status each maps to. */
export const REGISTRY_ERRORS: Record<string, number> = {
  not_found: 404,
  dependency_cycle: 400,
  unknown_dependency: 400,
  unknown_handler: 400,
  invalid_params: 400,
  work_too_large: 413,
  table_not_allowed: 403,
  invalid_schedule: 400,
  has_dependents: 409,
  already_running: 409,
  process_disabled: 409,
};

const err = (code: string, message: string) => new SluiceError(code, message);

const SELECT_VIEW = `
  SELECT p.*, row_to_json(r) AS last_run
    FROM sluice_process p
    LEFT JOIN LATERAL (
      SELECT id, process, handler, status, trigger, due_at, requested_at, started_at, ended_at, instance, progress, error
        FROM sluice_run WHERE process = p.name AND status <> 'queued' ORDER BY seq DESC LIMIT 1
    ) r ON true`;

type ViewRow = ProcessRow & { last_run: Record<string, unknown> | null };

function toView(p: ViewRow): ProcessView {
  const lr = p.last_run;
  const d = (v: unknown) => (v ? new Date(v as string) : null);
  return {
    name: p.name,
    handler: p.handler,
    params: p.params,
    kind: p.kind,
    schedule: p.schedule,
    notBefore: p.not_before,
    timeZone: p.time_zone,
    dependsOn: p.depends_on,
    priority: p.priority,
    refreshWindowMinutes: p.refresh_window_minutes,
    enabled: p.enabled,
    alarmed: p.alarmed,
    nextDueAt: p.next_due_at?.toISOString() ?? null,
    durations: { samples: p.recent_run_ms.length, p50Ms: p.run_p50_ms, p90Ms: p.run_p90_ms },
    lastRun: lr
      ? runView({
          ...(lr as unknown as RunRow),
          due_at: d(lr.due_at),
          requested_at: d(lr.requested_at)!,
          started_at: d(lr.started_at),
          ended_at: d(lr.ended_at),
        })
      : null,
    createdAt: p.created_at.toISOString(),
    updatedAt: p.updated_at.toISOString(),
  };
}

/** The process registry: validated writes (handler, params, schedule, dependencies, no cycles) and reads. */
export class ProcessRegistry {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => Date = () => new Date(),
    /** The zone of a process registered without one (SLUICE_TIME_ZONE), fixed on the process when written. */
    private readonly defaultTimeZone = 'UTC',
  ) {}

  async list(): Promise<ProcessView[]> {
    return (await rows<ViewRow>(this.pool, `${SELECT_VIEW} ORDER BY p.name`)).map(toView);
  }

  async get(name: string): Promise<ProcessView> {
    const [p] = await rows<ViewRow>(this.pool, `${SELECT_VIEW} WHERE p.name = $1`, [name]);
    if (!p) throw err('not_found', `no process named "${name}"`);
    return toView(p);
  }

  /** Create or replace. A new single process gets a queued run: it runs once, when its gates allow. */
  async upsert(body: ProcessBody): Promise<{ process: ProcessView; created: boolean }> {
    const created = await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
      const [old] = await rows<ProcessRow>(c, 'SELECT * FROM sluice_process WHERE name = $1 FOR UPDATE', [
        body.name,
      ]);
      await this.write(c, body, old ?? null, old?.alarmed ?? false);
      return !old;
    });
    return { process: await this.get(body.name), created };
  }

  async patch(name: string, patch: ProcessPatch): Promise<ProcessView> {
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
      const [old] = await rows<ProcessRow>(c, 'SELECT * FROM sluice_process WHERE name = $1 FOR UPDATE', [
        name,
      ]);
      if (!old) throw err('not_found', `no process named "${name}"`);
      const kind = patch.kind ?? old.kind;
      const body: ProcessBody = {
        name,
        handler: patch.handler ?? old.handler,
        params: patch.params ?? old.params,
        kind,
        // Switching to single drops the schedule unless one is given (it would be refused anyway).
        schedule: patch.schedule !== undefined ? patch.schedule : kind === 'single' ? null : old.schedule,
        notBefore: patch.notBefore !== undefined ? patch.notBefore : old.not_before,
        timeZone: patch.timeZone ?? old.time_zone,
        dependsOn: patch.dependsOn ?? old.depends_on,
        priority: patch.priority ?? old.priority,
        refreshWindowMinutes: patch.refreshWindowMinutes ?? old.refresh_window_minutes,
        enabled: patch.enabled ?? old.enabled,
      };
      await this.write(c, body, old, patch.alarmed ?? old.alarmed);
    });
    return this.get(name);
  }

  async remove(name: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [REGISTRY_LOCK]);
      const dependents = await rows<{ name: string }>(
        c,
        'SELECT name FROM sluice_process WHERE $1 = ANY (depends_on) AND name <> $1 ORDER BY name',
        [name],
      );
      if (dependents.length)
        throw err(
          'has_dependents',
          `"${name}" is a dependency of ${dependents.map((d) => d.name).join(', ')}; change those first`,
        );
      const res = await c.query('DELETE FROM sluice_process WHERE name = $1', [name]);
      if (!res.rowCount) throw err('not_found', `no process named "${name}"`);
      await c.query(
        `UPDATE sluice_run SET status = 'cancelled', ended_at = now(), error = 'process removed' WHERE process = $1 AND status = 'queued'`,
        [name],
      );
      await c.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'registry')`);
    });
  }

  /** Queues a run now; it starts on the next pass that finds it a slot. An already queued request is reused. */
  async requestRun(name: string): Promise<{ runId: string; queued: boolean }> {
    return inTransaction(this.pool, async (c) => {
      const [p] = await rows<ProcessRow>(c, 'SELECT * FROM sluice_process WHERE name = $1 FOR UPDATE', [
        name,
      ]);
      if (!p) throw err('not_found', `no process named "${name}"`);
      if (!p.enabled) throw err('process_disabled', `process "${name}" is disabled; enable it first`);
      const [active] = await rows<{ id: string }>(
        c,
        `SELECT id FROM sluice_run WHERE process = $1 AND status = 'running'`,
        [name],
      );
      if (active) throw err('already_running', `process "${name}" is already running (run ${active.id})`);
      const [queued] = await rows<{ id: string }>(
        c,
        `SELECT id FROM sluice_run WHERE process = $1 AND status = 'queued' ORDER BY seq LIMIT 1`,
        [name],
      );
      if (queued) return { runId: queued.id, queued: false };
      const [run] = await rows<{ id: string }>(
        c,
        `INSERT INTO sluice_run (process, handler, status, trigger, requested_at) VALUES ($1, $2, 'queued', 'manual', $3) RETURNING id`,
        [name, p.handler, this.clock()],
      );
      await c.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'request')`);
      return { runId: run.id, queued: true };
    });
  }

  private async write(
    c: PoolClient,
    b: ProcessBody,
    old: ProcessRow | null,
    alarmed: boolean,
  ): Promise<void> {
    const handler = getHandler(b.handler);
    if (!handler) throw err('unknown_handler', `no handler named "${b.handler}" is registered`);
    const params = handler.params.safeParse(b.params);
    if (!params.success) {
      // A handler's schema may name a more precise code for an issue (work_too_large, table_not_allowed).
      const coded = params.error.issues.map((i) => (i as { params?: { code?: unknown } }).params?.code);
      const code = coded.find((c): c is string => typeof c === 'string' && c in REGISTRY_ERRORS);
      throw err(
        code ?? 'invalid_params',
        `params for handler "${b.handler}": ${params.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`,
      );
    }
    const scheduleText = b.schedule ?? null;
    if (b.kind === 'recurrent' && !scheduleText)
      throw err(
        'invalid_schedule',
        'a recurrent process needs a schedule ("every 15m", "every day at 03:00" or a cron expression)',
      );
    if (b.kind === 'single' && scheduleText)
      throw err('invalid_schedule', 'a single process has no schedule');
    let schedule;
    try {
      schedule = scheduleText ? parseSchedule(scheduleText) : null;
      if (b.notBefore) parseNotBefore(b.notBefore);
    } catch (e) {
      if (e instanceof ScheduleError) throw err('invalid_schedule', e.message);
      throw e;
    }

    const graph = new Map<string, string[]>(
      (
        await rows<{ name: string; depends_on: string[] }>(c, 'SELECT name, depends_on FROM sluice_process')
      ).map((r) => [r.name, r.depends_on]),
    );
    const deps = [...new Set(b.dependsOn)];
    const unknown = deps.filter((d) => d !== b.name && !graph.has(d));
    if (unknown.length)
      throw err('unknown_dependency', `dependsOn names unknown process(es): ${unknown.join(', ')}`);
    graph.set(b.name, deps);
    const cycle = findCycle(graph);
    if (cycle) throw err('dependency_cycle', `dependency cycle refused: ${cycle.join(' -> ')}`);

    const now = this.clock();
    const zone = b.timeZone ?? this.defaultTimeZone;
    const scheduleChanged =
      !old || old.kind !== b.kind || old.schedule !== scheduleText || old.time_zone !== zone;
    const nextDue = schedule ? (scheduleChanged ? firstDue(schedule, now, zone) : old!.next_due_at) : null;
    await c.query(
      `INSERT INTO sluice_process (name, handler, params, kind, schedule, not_before, depends_on, priority,
                                   refresh_window_minutes, enabled, alarmed, next_due_at, created_at, updated_at, time_zone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)
       ON CONFLICT (name) DO UPDATE SET handler = $2, params = $3, kind = $4, schedule = $5, not_before = $6,
         depends_on = $7, priority = $8, refresh_window_minutes = $9, enabled = $10, alarmed = $11, next_due_at = $12,
         updated_at = $13, last_decision = NULL, time_zone = $14`,
      [
        b.name,
        b.handler,
        JSON.stringify(params.data),
        b.kind,
        scheduleText,
        b.notBefore ?? null,
        deps,
        b.priority,
        b.refreshWindowMinutes,
        b.enabled,
        b.kind === 'recurrent' && alarmed,
        nextDue,
        now,
        zone,
      ],
    );
    if (b.kind === 'single' && (!old || old.kind !== 'single')) {
      await c.query(
        `INSERT INTO sluice_run (process, handler, status, trigger, requested_at) VALUES ($1, $2, 'queued', 'registered', $3)`,
        [b.name, b.handler, now],
      );
    }
    // The hot change: every instance plans again at once.
    await c.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'registry')`);
  }
}
