import type { Queryable } from '../db/pool';
import { rows } from '../db/pool';

export interface LogEntry {
  process: string;
  decision: string;
  reason: string;
  runId: string | null;
}

export async function writeLog(
  db: Queryable,
  instance: string,
  at: Date,
  entries: LogEntry[],
): Promise<void> {
  if (!entries.length) return;
  await db.query(
    `INSERT INTO sluice_planner_log (at, instance, process, decision, reason, run_id)
     SELECT $1, $2, x.process, x.decision, x.reason, x.run_id
       FROM unnest($3::text[], $4::text[], $5::text[], $6::uuid[]) AS x(process, decision, reason, run_id)`,
    [
      at,
      instance,
      entries.map((e) => e.process),
      entries.map((e) => e.decision),
      entries.map((e) => e.reason),
      entries.map((e) => e.runId),
    ],
  );
}

export async function readLog(db: Queryable, f: { limit: number; process?: string }) {
  const list = await rows<{
    id: string;
    at: Date;
    instance: string;
    process: string;
    decision: string;
    reason: string;
    run_id: string | null;
  }>(
    db,
    `SELECT id, at, instance, process, decision, reason, run_id FROM sluice_planner_log
      WHERE ($1::text IS NULL OR process = $1) ORDER BY id DESC LIMIT $2`,
    [f.process ?? null, f.limit],
  );
  return list.map((e) => ({
    id: Number(e.id),
    at: e.at.toISOString(),
    instance: e.instance,
    process: e.process,
    decision: e.decision,
    reason: e.reason,
    runId: e.run_id,
  }));
}

/** Keeps the log bounded: the newest `keep` entries stay. */
export async function pruneLog(db: Queryable, keep: number): Promise<void> {
  await db.query(`DELETE FROM sluice_planner_log WHERE id < (SELECT max(id) FROM sluice_planner_log) - $1`, [
    keep,
  ]);
}
