import { arrayParam, type Queryable } from '../pool';

export interface Failure {
  id: string;
  /** true: dead letter now; false: back to pending at `runAt`. */
  dead: boolean;
  runAt: Date;
  error: string;
  status: number | null;
  response: string | null;
  /** Deferred (breaker open): the attempt is given back instead of spent. */
  refundAttempt?: boolean;
}

export interface SettleRows {
  /** Delivered rows and the HTTP status each got. */
  done: { ids: string[]; statuses: number[] };
  failures: Failure[];
  /** The attempt log's rows (drain/attempt-rows.ts); absent: the log is off. */
  attempts?: AttemptRows | null;
  /** What the settle tells each route's failure clock (drain/attempt-rows.ts); absent: nothing. */
  health?: HealthRows | null;
}

/**
 * What only the drain knows of each settled row's attempt, columnar (one `unnest`); the rest (event,
 * route, record, attempt number, outcome, status, error, failure response) the statement takes from the
 * rows it settles, so the log costs few parameters.
 */
export interface AttemptRows {
  queueIds: string[];
  /** When the request went out, ms epoch. */
  startedMs: number[];
  durationMs: number[];
  errorCodes: Array<string | null>;
  /** A 2xx response's body excerpt (failures' excerpts are already in `Failure.response`). */
  bodies: Array<string | null>;
}

/** Per route: an attempt succeeded (`ok`), and the first failure after the last success (or null). */
export interface HealthRows {
  routes: string[];
  ok: boolean[];
  failFrom: Array<Date | null>;
}

/**
 * The bodies as each distinct text once and, per row, its 1-based position in that list (null: no body).
 * The events of one composite request share its excerpt (up to 512 characters for up to 200 rows): sent
 * once instead of once per row, that parameter shrinks ~200x for such a route.
 */
export function distinctBodies(bodies: Array<string | null>): { at: Array<number | null>; texts: string[] } {
  const index = new Map<string, number>();
  const texts: string[] = [];
  const at = bodies.map((b) => {
    if (b === null) return null;
    let i = index.get(b);
    if (i === undefined) index.set(b, (i = texts.push(b)));
    return i;
  });
  return { at, texts };
}

/**
 * Writes a settle in one statement (so one transaction), the function `sluice_settle` (migration 0022, where
 * the statement and why its plan is pinned are): delivered rows done, failed ones back to pending at their
 * retry time or dead, each attempt into the log and the routes' failure clocks, and, for every record whose
 * row just ended (done or dead), its next row unblocked if the claim had parked it (see claim.ts). Rows no
 * longer locked to `holder` (handed back meanwhile) are left alone. Returns the number of rows settled.
 */
export async function settleRows(db: Queryable, holder: string, s: SettleRows): Promise<number> {
  const { done, failures, attempts, health } = s;
  if (done.ids.length === 0 && failures.length === 0) return 0;
  // The log's columns go beside each row's outcome, in its order (no join in the statement).
  const log = attemptColumns(attempts, done.ids, failures);
  const { at, texts } = distinctBodies(log.done.bodies);
  // Arrays go as Postgres array text (arrayParam, what pg would send, built for less); dates are left to pg.
  const res = await db.query<{ n: number }>({
    name: 'sluice_settle',
    text: `SELECT sluice_settle(${Array.from({ length: 21 }, (_, i) => `$${i + 1}`).join(', ')}) AS n`,
    values: [
      holder,
      arrayParam(done.ids),
      arrayParam(done.statuses),
      arrayParam(log.done.startedMs),
      arrayParam(log.done.durationMs),
      arrayParam(at),
      arrayParam(failures.map((f) => f.id)),
      arrayParam(failures.map((f) => f.dead)),
      failures.map((f) => f.runAt),
      arrayParam(failures.map((f) => f.error.slice(0, 2000))),
      arrayParam(failures.map((f) => f.status)),
      arrayParam(failures.map((f) => f.response)),
      arrayParam(failures.map((f) => f.refundAttempt ?? false)),
      arrayParam(log.failed.startedMs),
      arrayParam(log.failed.durationMs),
      arrayParam(log.failed.errorCodes),
      log.on,
      arrayParam(texts),
      arrayParam(health?.routes ?? []),
      arrayParam(health?.ok ?? []),
      health?.failFrom ?? [],
    ],
  });
  return Number(res.rows[0].n);
}

interface LogColumns {
  startedMs: Array<number | null>;
  durationMs: Array<number | null>;
  errorCodes: Array<string | null>;
  bodies: Array<string | null>;
}

/**
 * The attempt log's columns for the delivered rows and for the failed ones, each in the order of its ids
 * (a row the log has nothing for gets nulls). `on` is false when the log is off or empty: nothing is logged.
 */
export function attemptColumns(
  attempts: AttemptRows | null | undefined,
  doneIds: readonly string[],
  failures: readonly Failure[],
): { on: boolean; done: LogColumns; failed: LogColumns } {
  const empty = (): LogColumns => ({ startedMs: [], durationMs: [], errorCodes: [], bodies: [] });
  const out = { on: false, done: empty(), failed: empty() };
  if (!attempts?.queueIds.length) return out;
  out.on = true;
  const at = new Map<string, number>();
  attempts.queueIds.forEach((id, i) => at.set(id, i));
  const put = (cols: LogColumns, id: string) => {
    const i = at.get(id);
    cols.startedMs.push(i === undefined ? null : attempts.startedMs[i]);
    cols.durationMs.push(i === undefined ? null : attempts.durationMs[i]);
    cols.errorCodes.push(i === undefined ? null : attempts.errorCodes[i]);
    cols.bodies.push(i === undefined ? null : attempts.bodies[i]);
  };
  for (const id of doneIds) put(out.done, id);
  for (const f of failures) put(out.failed, f.id);
  return out;
}

/**
 * Unblocks parked rows whose record has no earlier live row: the repair a new leader runs once, in case
 * a row was parked behind one that left the queue by another way than a settle (an operator's delete).
 * Bounded per call; the oldest parked rows first.
 */
export async function unblockOrphans(db: Queryable, limit = 5000): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue q SET blocked = false
       FROM (SELECT b.id FROM event_queue b
              WHERE b.state = 'pending' AND b.blocked
                AND NOT EXISTS (SELECT 1 FROM event_queue e
                                 WHERE e.route = b.route AND e.entity = b.entity AND e.record_id = b.record_id
                                   AND e.state IN ('pending', 'running') AND e.id < b.id)
              ORDER BY b.id LIMIT $1) o
      WHERE q.id = o.id`,
    [limit],
  );
  return res.rowCount ?? 0;
}
