import type { Pool, PoolClient } from 'pg';
import { rows } from '../../db/pool';
import { coerceError, SluiceError } from '../../lib/errors';
import { closeCheckpoint, openCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint';
import type { BackfillCaller } from './access';
import { BACKFILL_DEFAULTS } from './defaults';
import { badInput, resolveTarget } from './target';

export interface BackfillOptions {
  table: string;
  /** The one route every row goes to. */
  route: string;
  /** Keyset column; default the table's single-column primary key. */
  key?: string;
  /** Entity name of the events; default the table name. */
  entity?: string;
  /** Rows per page (one enqueue statement each). */
  page?: number;
  /** Pages in flight at once. */
  threads?: number;
  /** A page running longer is reported (logged and counted as slow). */
  warnAfterMs?: number;
  /** A page running longer is stopped (statement timeout): the backfill fails and resumes before it. */
  stopAfterMs?: number;
  /** Start from the beginning even if an unfinished backfill could be resumed. */
  restart?: boolean;
  /** Who asks, for the table access check (default planner: the stricter one). */
  caller?: BackfillCaller;
  holder?: string;
  runId?: string | null;
  signal?: AbortSignal;
  onProgress?(p: BackfillProgress): void;
  log?: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

export interface BackfillProgress extends CheckpointState {
  id: string;
  table: string;
  route: string;
  resumed: boolean;
  resumedFrom: string | null;
  pagesRunning: number;
  /** Rows finished by this invocation (excludes rows done before a resume). */
  rowsThisRun: number;
  elapsedMs: number;
}

export interface BackfillResult extends BackfillProgress {
  status: 'done' | 'failed';
  error: string | null;
}

interface Page {
  seq: number;
  after: string | null;
  last: string;
  n: number;
  state: 'running' | 'done' | 'stopped' | 'failed';
}

/**
 * Pages a table by keyset into one route. A producer walks the key in order and hands pages to up to
 * `threads` parallel workers; each page is one statement (rows -> sluice_enqueue_route) in its own
 * transaction. The checkpoint cursor is the end of the longest run of finished pages from the start,
 * so a killed backfill resumes there (pages after it may be sent again: at-least-once, as everywhere).
 */
export async function runBackfill(pool: Pool, o: BackfillOptions): Promise<BackfillResult> {
  const page = o.page ?? BACKFILL_DEFAULTS.page;
  const threads = o.threads ?? BACKFILL_DEFAULTS.threads;
  const warnAfterMs = o.warnAfterMs ?? BACKFILL_DEFAULTS.warnAfterMs;
  const stopAfterMs = o.stopAfterMs ?? BACKFILL_DEFAULTS.stopAfterMs;
  if (!Number.isInteger(page) || page < 1 || page > 10_000) throw badInput('page must be 1..10000 rows');
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw badInput('threads must be 1..64');
  if (!(warnAfterMs > 0) || !(stopAfterMs > 0)) throw badInput('warnAfter and stopAfter must be positive');

  const target = await resolveTarget(pool, o.table, o.key, o.caller ?? 'planner');
  const [route] = await rows<{ enabled: boolean }>(pool, 'SELECT enabled FROM sluice_route WHERE name = $1', [
    o.route,
  ]);
  if (!route) throw badInput(`route "${o.route}" does not exist (routes come from the config file)`);
  if (!route.enabled) throw badInput(`route "${o.route}" is disabled`);
  const entity = o.entity ?? target.name;

  // One backfill per (table, route) at a time; the session lock dies with a killed process.
  const lockClient = await pool.connect();
  let locked = false;
  try {
    const [lock] = await rows<{ ok: boolean }>(
      lockClient,
      `SELECT pg_try_advisory_lock(hashtext('sluice_backfill'), hashtext($1)) AS ok`,
      [`${target.table}|${o.route}`],
    );
    if (!lock.ok)
      throw new SluiceError(
        'already_running',
        `a backfill of ${target.table} into route "${o.route}" is already running`,
      );
    locked = true;
    return await pageThrough(pool, o, target, { page, threads, warnAfterMs, stopAfterMs, entity });
  } finally {
    if (locked)
      await lockClient
        .query(`SELECT pg_advisory_unlock(hashtext('sluice_backfill'), hashtext($1))`, [
          `${target.table}|${o.route}`,
        ])
        .catch(() => undefined);
    lockClient.release();
  }
}

async function pageThrough(
  pool: Pool,
  o: BackfillOptions,
  target: Awaited<ReturnType<typeof resolveTarget>>,
  c: { page: number; threads: number; warnAfterMs: number; stopAfterMs: number; entity: string },
): Promise<BackfillResult> {
  const began = Date.now();
  const { row, resumed } = await openCheckpoint(pool, {
    table: target.table,
    keyColumn: target.keyColumn,
    route: o.route,
    page: c.page,
    threads: c.threads,
    holder: o.holder ?? 'cli',
    runId: o.runId ?? null,
    restart: o.restart ?? false,
  });
  const source = `backfill:${target.table}`;
  const start = resumed ? row.cursor : null;
  const priorRows = resumed ? Number(row.rows_done) : 0;
  const [remaining] = await rows<{ n: string }>(
    pool,
    start === null ? target.sql.countFirst : target.sql.countAfter,
    start === null ? [] : [start],
  );
  const s: CheckpointState = {
    cursor: start,
    rowsDone: priorRows,
    pagesStarted: resumed ? row.pages_started : 0,
    pagesFinished: resumed ? row.pages_finished : 0,
    pagesSlow: resumed ? row.pages_slow : 0,
    pagesStopped: 0,
    totalRows: priorRows + Number(remaining.n),
  };
  const pages: Page[] = [];
  let lowest = 0; // index of the first page not yet folded into the cursor
  let running = 0;
  let fatal: Error | null = null;
  const progress = (): BackfillProgress => ({
    ...s,
    id: row.id,
    table: target.table,
    route: o.route,
    resumed,
    resumedFrom: resumed ? start : null,
    pagesRunning: running,
    rowsThisRun: s.rowsDone - priorRows,
    elapsedMs: Date.now() - began,
  });
  // Checkpoint writes are chained so an older cursor never overwrites a newer one.
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    const snapshot = { ...s };
    saving = saving
      .then(() => saveCheckpoint(pool, row.id, snapshot))
      .catch((err) => {
        fatal ??= coerceError(err);
      });
    o.onProgress?.(progress());
  };
  const heartbeat = setInterval(save, 5000);
  heartbeat.unref();

  // An abort cancels the page statements in flight, so a removed process stops within moments.
  const busy = new Set<PoolClient>();
  const cancelPages = () => {
    for (const c of busy) {
      const pid = (c as PoolClient & { processID?: number }).processID;
      if (pid) void pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    }
  };

  const runPage = async (p: Page) => {
    running++;
    s.pagesStarted++;
    const slow = setTimeout(() => {
      s.pagesSlow++;
      o.log?.warn(
        { table: target.table, page: p.seq, after: p.after, ms: c.warnAfterMs },
        'backfill page is slow',
      );
    }, c.warnAfterMs);
    let client: PoolClient | null = null;
    try {
      client = await pool.connect();
      busy.add(client);
      await client.query('BEGIN');
      // The database stops a page past stopAfter: the timeout covers the one statement that does the work.
      await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(c.stopAfterMs)]);
      const params =
        p.after === null
          ? [p.last, o.route, c.entity, source, row.id]
          : [p.after, p.last, o.route, c.entity, source, row.id];
      await client.query(p.after === null ? target.sql.pageFirst : target.sql.pageAfter, params);
      await client.query('COMMIT');
      p.state = 'done';
      s.pagesFinished++;
      s.rowsDone += p.n;
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => undefined);
      // Cancelled by the abort (process removed or disabled, service stopping): resumes from the checkpoint.
      if (o.signal?.aborted) p.state = 'failed';
      else if ((err as { code?: string }).code === '57014') {
        p.state = 'stopped';
        s.pagesStopped++;
        o.log?.warn(
          { table: target.table, page: p.seq, after: p.after, ms: c.stopAfterMs },
          'backfill page stopped',
        );
      } else {
        p.state = 'failed';
        fatal ??= coerceError(err);
      }
    } finally {
      clearTimeout(slow);
      if (client) busy.delete(client);
      // A connection that may have been sent a cancel is never reused: the cancel must not reach another query.
      client?.release(o.signal?.aborted === true);
      running--;
    }
    while (lowest < pages.length && pages[lowest].state === 'done') s.cursor = pages[lowest++].last;
    save();
  };

  o.signal?.addEventListener('abort', cancelPages, { once: true });
  const inFlight = new Set<Promise<void>>();
  let after = start;
  try {
    while (!fatal && !o.signal?.aborted) {
      // Read the next boundary only when a thread is free, so the producer stays one page ahead.
      while (inFlight.size >= c.threads) await Promise.race(inFlight);
      if (fatal || o.signal?.aborted) break;
      const [b] = await rows<{ last: string | null; n: number }>(
        pool,
        after === null ? target.sql.boundFirst : target.sql.boundAfter,
        after === null ? [c.page] : [after, c.page],
      );
      if (!b.last || b.n === 0) break;
      const p: Page = { seq: pages.length, after, last: b.last, n: b.n, state: 'running' };
      pages.push(p);
      after = b.last;
      const t: Promise<void> = runPage(p).finally(() => inFlight.delete(t));
      inFlight.add(t);
      if (b.n < c.page) break;
    }
  } catch (err) {
    fatal ??= coerceError(err);
  }
  await Promise.all(inFlight);
  o.signal?.removeEventListener('abort', cancelPages);
  clearInterval(heartbeat);
  save();
  await saving;

  let error: string | null = null;
  if (fatal) error = fatal.message;
  else if (o.signal?.aborted) error = 'interrupted; the next run resumes from the checkpoint';
  else if (s.pagesStopped > 0)
    error = `${s.pagesStopped} page(s) stopped after ${c.stopAfterMs} ms; the next run resumes from the checkpoint`;
  const status = error ? 'failed' : 'done';
  await closeCheckpoint(pool, row.id, status, error);
  const result = { ...progress(), status, error } as BackfillResult;
  o.onProgress?.(result);
  return result;
}
