import type { Queryable } from '../../db/pool';
import { rows } from '../../db/pool';

export interface BackfillRow {
  id: string;
  table_name: string;
  key_column: string;
  route: string;
  status: 'running' | 'done' | 'failed';
  cursor: string | null;
  rows_done: string;
  pages_started: number;
  pages_finished: number;
  pages_slow: number;
  pages_stopped: number;
  total_rows: string | null;
  resumed_from: string | null;
  started_at: Date;
  heartbeat_at: Date;
  ended_at: Date | null;
  error: string | null;
  run_id: string | null;
}

/**
 * Resume or start: the newest backfill of (table, route) that did not finish is resumed from its cursor
 * (a killed or failed one); otherwise, or with `restart`, a fresh one starts from the beginning.
 * The caller holds the (table, route) advisory lock, so nobody else is running it.
 */
export async function openCheckpoint(
  db: Queryable,
  o: {
    table: string;
    keyColumn: string;
    route: string;
    page: number;
    threads: number;
    holder: string;
    runId: string | null;
    restart: boolean;
  },
): Promise<{ row: BackfillRow; resumed: boolean }> {
  const [last] = await rows<BackfillRow>(
    db,
    `SELECT * FROM sluice_backfill WHERE table_name = $1 AND route = $2 ORDER BY started_at DESC LIMIT 1`,
    [o.table, o.route],
  );
  if (last && last.status !== 'done' && !o.restart && last.key_column === o.keyColumn) {
    const [row] = await rows<BackfillRow>(
      db,
      `UPDATE sluice_backfill SET status = 'running', resumed_from = cursor, holder = $2, run_id = coalesce($3, run_id),
              page_size = $4, threads = $5, error = NULL, ended_at = NULL, heartbeat_at = now()
        WHERE id = $1 RETURNING *`,
      [last.id, o.holder, o.runId, o.page, o.threads],
    );
    return { row, resumed: true };
  }
  if (last && last.status === 'running') {
    // Abandoned by a dead holder and not resumed (restart or another key): close it honestly.
    await db.query(
      `UPDATE sluice_backfill SET status = 'failed', error = 'superseded by a fresh backfill', ended_at = now() WHERE id = $1`,
      [last.id],
    );
  }
  const [row] = await rows<BackfillRow>(
    db,
    `INSERT INTO sluice_backfill (table_name, key_column, route, status, page_size, threads, holder, run_id)
     VALUES ($1, $2, $3, 'running', $4, $5, $6, $7) RETURNING *`,
    [o.table, o.keyColumn, o.route, o.page, o.threads, o.holder, o.runId],
  );
  return { row, resumed: false };
}

export interface CheckpointState {
  cursor: string | null;
  rowsDone: number;
  pagesStarted: number;
  pagesFinished: number;
  pagesSlow: number;
  pagesStopped: number;
  totalRows: number;
}

export async function saveCheckpoint(db: Queryable, id: string, s: CheckpointState): Promise<void> {
  await db.query(
    `UPDATE sluice_backfill SET cursor = $2, rows_done = $3, pages_started = $4, pages_finished = $5,
            pages_slow = $6, pages_stopped = $7, total_rows = $8, heartbeat_at = now()
      WHERE id = $1`,
    [id, s.cursor, s.rowsDone, s.pagesStarted, s.pagesFinished, s.pagesSlow, s.pagesStopped, s.totalRows],
  );
}

export async function closeCheckpoint(
  db: Queryable,
  id: string,
  status: 'done' | 'failed',
  error: string | null,
): Promise<void> {
  await db.query(
    `UPDATE sluice_backfill SET status = $2, error = $3, ended_at = now(), heartbeat_at = now() WHERE id = $1`,
    [id, status, error],
  );
}

/** Backfills shown in status: the running ones (a stale heartbeat means the holder died: `interrupted`). */
export async function activeBackfills(db: Queryable, staleMs = 30_000) {
  const list = await rows<BackfillRow & { stale: boolean }>(
    db,
    `SELECT *, heartbeat_at < now() - make_interval(secs => $1::float8 / 1000) AS stale
       FROM sluice_backfill WHERE status = 'running' ORDER BY started_at`,
    [staleMs],
  );
  return list.map((b) => describeBackfill(b, b.stale ? 'interrupted' : b.status));
}

export function describeBackfill(b: BackfillRow, status: string = b.status) {
  const done = Number(b.rows_done);
  const total = b.total_rows === null ? null : Number(b.total_rows);
  const seconds = Math.max(0.001, ((b.ended_at ?? new Date()).getTime() - b.started_at.getTime()) / 1000);
  return {
    id: b.id,
    table: b.table_name,
    route: b.route,
    status,
    cursor: b.cursor,
    resumedFrom: b.resumed_from,
    rowsDone: done,
    rowsTotal: total,
    percent: total ? Math.min(100, Math.round((done / total) * 1000) / 10) : null,
    pages: {
      started: b.pages_started,
      finished: b.pages_finished,
      slow: b.pages_slow,
      stopped: b.pages_stopped,
    },
    startedAt: b.started_at.toISOString(),
    endedAt: b.ended_at?.toISOString() ?? null,
    error: b.error,
    runId: b.run_id,
    rowsPerSecond: Math.round(done / seconds),
  };
}
