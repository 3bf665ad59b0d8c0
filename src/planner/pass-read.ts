import type { PoolClient } from 'pg';
import { rows } from '../db/pool';
import type { PlanProcess } from './rank';
import { parseNotBefore, parseSchedule, type NotBefore, type Schedule } from './schedule';

/** What a planning pass reads about processes: the candidates, the upcoming ones, their dependencies. */

const date = (ms: string) => (ms === '' ? null : new Date(Number(ms)));

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

const ms = (col: string) => `coalesce(((extract(epoch FROM ${col}) * 1000)::bigint)::text, '')`;
// One delimited string for all rows: parsing 10,000 typed rows costs more in node-pg than the query
// itself. Names, schedules and reasons cannot hold the separators (control characters).
// An upcoming process leaves out what only a start or a log entry needs (handler, schedule, decision);
// the last start and success are read only where a gate looks at them (dependencies, refresh window).
const record = (candidate: boolean) => `concat_ws(chr(31), p.name, ${candidate ? 'p.handler' : "''"}, p.kind,
  ${candidate ? "coalesce(p.schedule, '')" : "''"}, coalesce(p.not_before, ''), array_to_string(p.depends_on, ','),
  p.priority, p.refresh_window_minutes, p.alarmed::text, ${ms('p.next_due_at')},
  ${ms("CASE WHEN p.depends_on <> '{}' THEN p.last_started_at END")},
  ${ms('CASE WHEN p.refresh_window_minutes > 0 THEN p.last_succeeded_at END')},
  ${candidate ? "coalesce(p.last_decision, ''), coalesce(q.id::text, '')" : "'', ''"},
  ${candidate ? `${ms('q.requested_at')}, coalesce(q.trigger, '')` : "'', ''"},
  (a.process IS NOT NULL)::text, p.time_zone, coalesce(p.run_p90_ms::text, ''))`;

const FIELDS = 19;
const EMPTY: string[] = [];

function parse(list: string | null): { p: PlanProcess; lastDecision: string | null }[] {
  // One split for every field of every row (a record is FIELDS fields; records and fields have their
  // own separators): a split per row costs an array each.
  // eslint-disable-next-line no-control-regex -- the separators are control characters on purpose
  const f = list ? list.split(/[\x1e\x1f]/) : EMPTY;
  const out: { p: PlanProcess; lastDecision: string | null }[] = [];
  for (let i = 0; i + FIELDS <= f.length; i += FIELDS) {
    out.push({
      p: {
        name: f[i],
        handler: f[i + 1],
        kind: f[i + 2] as PlanProcess['kind'],
        schedule: f[i + 3] ? cached(scheduleCache, f[i + 3], parseSchedule) : null,
        notBefore: f[i + 4] ? cached(notBeforeCache, f[i + 4], parseNotBefore) : null,
        timeZone: f[i + 17],
        dependsOn: f[i + 5] === '' ? EMPTY : f[i + 5].split(','),
        priority: Number(f[i + 6]),
        refreshWindowMinutes: Number(f[i + 7]),
        alarmed: f[i + 8] === 'true',
        nextDueAt: date(f[i + 9]),
        lastStartedAt: date(f[i + 10]),
        lastSucceededAt: date(f[i + 11]),
        expectedMs: f[i + 18] === '' ? null : Number(f[i + 18]),
        queued: f[i + 13]
          ? { runId: f[i + 13], requestedAt: date(f[i + 14])!, trigger: f[i + 15] as 'manual' | 'registered' }
          : null,
        active: f[i + 16] === 'true',
      },
      lastDecision: f[i + 12] === '' ? null : f[i + 12],
    });
  }
  return out;
}

/** Enabled processes that are due or have a queued request, with the last decision logged for each. */
export async function readCandidates(c: PoolClient, now: Date) {
  const [{ list }] = await rows<{ list: string | null }>(
    c,
    `WITH queued AS (
       SELECT DISTINCT ON (process) process, id, requested_at, trigger FROM sluice_run
        WHERE status = 'queued' ORDER BY process, seq
     ), running AS (SELECT process FROM sluice_run WHERE status = 'running')
     SELECT string_agg(${record(true)}, chr(30)) AS list
       FROM sluice_process p
       LEFT JOIN queued q ON q.process = p.name
       LEFT JOIN running a ON a.process = p.name
      WHERE p.enabled AND (p.next_due_at <= $1 OR q.id IS NOT NULL)`,
    [now],
  );
  return parse(list);
}

type Rank = { group: number; priority: number };

/**
 * Enabled recurrent processes next due after now and by `until`, with no queued request, that outrank
 * `bound` (a better group, or the same group and a higher priority) but not `above`, in rank order.
 */
export async function readUpcoming(
  c: PoolClient,
  now: Date,
  until: Date,
  bound: Rank,
  above: Rank | null = null,
): Promise<PlanProcess[]> {
  const group = 'CASE WHEN p.alarmed THEN 0 ELSE 1 END';
  const outranks = (g: string, pr: string) => `(${group} < ${g} OR (${group} = ${g} AND p.priority > ${pr}))`;
  const [{ list }] = await rows<{ list: string | null }>(
    c,
    `SELECT string_agg(${record(false)}, chr(30) ORDER BY ${group}, p.priority DESC, p.next_due_at, p.name) AS list
       FROM sluice_process p
       LEFT JOIN LATERAL (SELECT process FROM sluice_run WHERE process = p.name AND status = 'running') a ON true
      WHERE p.enabled AND p.next_due_at > $1 AND p.next_due_at <= $2
        AND NOT EXISTS (SELECT 1 FROM sluice_run r WHERE r.process = p.name AND r.status = 'queued')
        AND ${outranks('$3', '$4')} AND ($5::int IS NULL OR NOT ${outranks('$5', '$6')})`,
    [now, until, bound.group, bound.priority, above?.group ?? null, above?.priority ?? null],
  );
  return parse(list).map((r) => r.p);
}

/** Last successful end of each named process (missing: no such process). */
export async function readSucceededAt(c: PoolClient, names: Set<string>): Promise<Map<string, Date | null>> {
  const out = new Map<string, Date | null>();
  if (!names.size) return out;
  const list = await rows<{ name: string; last_succeeded_at: Date | null }>(
    c,
    'SELECT name, last_succeeded_at FROM sluice_process WHERE name = ANY ($1::text[])',
    [[...names]],
  );
  for (const d of list) out.set(d.name, d.last_succeeded_at);
  return out;
}
