import { rows, type Queryable } from '../pool';

export interface InstanceBeat {
  /** Live instances (this one included), sorted. */
  live: string[];
  /** Lanes in all (rows of sluice_lane). */
  lanes: number;
}

/**
 * Registers or refreshes this instance's heartbeat (expiring after ttl) and reads the live instances
 * and the lane count, in one statement. The INSERT's row is not visible to the same statement's reads,
 * so this instance is added to the live list by id.
 */
export async function beatInstance(
  db: Queryable,
  id: string,
  ttlMs: number,
  info: object,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<InstanceBeat> {
  const res = await db.query<{ live: string[] | null; lanes: string }>({
    ...(timeoutMs && { query_timeout: timeoutMs }),
    // A data-modifying WITH runs once whether or not the SELECT reads it.
    text: `WITH me AS (
       INSERT INTO sluice_instance AS i (id, expires_at, info)
       VALUES ($1, now() + make_interval(secs => $2::float8 / 1000), $3)
       ON CONFLICT (id) DO UPDATE SET seen_at = now(), expires_at = excluded.expires_at, info = excluded.info
     )
     SELECT (SELECT array_agg(id ORDER BY id) FROM (
               SELECT id FROM sluice_instance WHERE expires_at > now() AND id <> $1 UNION ALL SELECT $1) x) AS live,
            (SELECT count(*) FROM sluice_lane) AS lanes`,
    values: [id, ttlMs, JSON.stringify(info)],
  });
  const row = res.rows[0];
  return { live: row.live ?? [id], lanes: Number(row.lanes) };
}

/** An instance leaves: its row goes at once, so the others re-assign its lanes on their next tick. */
export async function leaveInstance(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM sluice_instance WHERE id = $1`, [id]);
}

export interface HeldLane {
  lane: number;
  term: number;
}

/**
 * One lease round for `holder`: lanes in `release` are given up at once (expiry set to now), and each lane
 * in `keep` is renewed if held, or taken if free or expired (its term then bumps, fencing the earlier
 * holder's claims). Returns the lanes held afterwards with their terms; a lane of `keep` missing from the
 * answer is held by another live instance.
 */
export async function leaseLanes(
  db: Queryable,
  holder: string,
  keep: number[],
  release: number[],
  ttlMs: number,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<HeldLane[]> {
  const res = await db.query<{ lane: number; term: string }>({
    ...(timeoutMs && { query_timeout: timeoutMs }),
    text: `WITH released AS (
       UPDATE sluice_lane SET expires_at = now()
        WHERE lane = ANY ($4::int[]) AND holder = $1 AND expires_at > now()
       RETURNING lane
     )
     UPDATE sluice_lane l
        SET holder = $1,
            term = CASE WHEN l.holder = $1 AND l.expires_at > now() THEN l.term ELSE l.term + 1 END,
            expires_at = now() + make_interval(secs => $3::float8 / 1000)
      WHERE l.lane = ANY ($2::int[]) AND (l.expires_at <= now() OR l.holder = $1)
        AND l.lane <> ALL ($4::int[])
     RETURNING l.lane, l.term`,
    values: [holder, keep, ttlMs, release],
  });
  return res.rows.map((r) => ({ lane: r.lane, term: Number(r.term) })).sort((a, b) => a.lane - b.lane);
}

/**
 * Lanes just taken over: their rows still marked running by another holder (a dead or partitioned
 * instance), or by this one but no longer in its window (an earlier life), go back to the queue at once
 * instead of after their row lease. Running rows are the rows with a holder (event_queue_held_idx, 0023).
 */
export async function releaseLaneRows(
  db: Queryable,
  holder: string,
  lanes: number[],
  keep: string[],
): Promise<number> {
  const res = await db.query(
    `UPDATE event_queue SET state = 'pending', locked_by = NULL, locked_until = NULL, run_at = now(), updated_at = now()
      WHERE locked_by IS NOT NULL AND lane = ANY ($2::int[])
        AND (locked_by IS DISTINCT FROM $1 OR id <> ALL ($3::bigint[]))`,
    [holder, lanes, keep],
  );
  return res.rowCount ?? 0;
}

/**
 * Sets the lane count to `lanes` when no other instance is live (the caller is alone), re-laning every
 * row not done; returns the count in force afterwards. The table lock holds back enqueues (which read
 * the count) and claims until the new count and the rows' lanes are committed together.
 */
export async function resizeLanes(
  db: Queryable,
  holder: string,
  lanes: number,
): Promise<{ lanes: number; resized: boolean; others: number }> {
  await db.query('BEGIN');
  try {
    await db.query('LOCK TABLE sluice_lane IN ACCESS EXCLUSIVE MODE');
    const [state] = await rows<{ lanes: string; others: string }>(
      db,
      `SELECT (SELECT count(*) FROM sluice_lane) AS lanes,
              (SELECT count(*) FROM sluice_instance WHERE expires_at > now() AND id <> $1) AS others`,
      [holder],
    );
    const current = Number(state.lanes);
    const others = Number(state.others);
    if (current === lanes || others > 0) {
      await db.query('COMMIT');
      return { lanes: current, resized: false, others };
    }
    await db.query(`DELETE FROM sluice_lane WHERE lane >= $1`, [lanes]);
    await db.query(
      `INSERT INTO sluice_lane (lane) SELECT generate_series(0, $1::int - 1) ON CONFLICT (lane) DO NOTHING`,
      [lanes],
    );
    await db.query(
      `UPDATE event_queue SET lane = sluice_lane_of(route, entity, record_id, $1) WHERE state <> 'done'`,
      [lanes],
    );
    await db.query('COMMIT');
    return { lanes, resized: true, others };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export interface LanesStatus {
  /** Lanes in all. */
  total: number;
  /** Live instances, the lanes each holds, and when each was last seen. */
  instances: Array<{ id: string; lanes: number[]; startedAt: Date; seenAt: Date; info: unknown }>;
  /** Pending rows per lane (lanes with none left out), and who holds each lane (null: nobody live). */
  lanes: Array<{ lane: number; holder: string | null; pending: number }>;
}

/** Instances, lane holders and each lane's backlog, for status and the dashboard. */
export async function lanesStatus(db: Queryable): Promise<LanesStatus> {
  const [instances, lanes] = await Promise.all([
    rows<{ id: string; started_at: Date; seen_at: Date; info: unknown; lanes: number[] | null }>(
      db,
      `SELECT i.id, i.started_at, i.seen_at, i.info,
              (SELECT array_agg(l.lane ORDER BY l.lane) FROM sluice_lane l
                WHERE l.holder = i.id AND l.expires_at > now()) AS lanes
         FROM sluice_instance i WHERE i.expires_at > now() ORDER BY i.id`,
    ),
    rows<{ lane: number; holder: string | null; pending: string }>(
      db,
      `SELECT l.lane, CASE WHEN l.expires_at > now() THEN l.holder END AS holder, coalesce(q.n, 0) AS pending
         FROM sluice_lane l
         LEFT JOIN (SELECT lane, count(*) AS n FROM event_queue WHERE state = 'pending' GROUP BY lane) q
           ON q.lane = l.lane
        ORDER BY l.lane`,
    ),
  ]);
  return {
    total: lanes.length,
    instances: instances.map((i) => ({
      id: i.id,
      lanes: i.lanes ?? [],
      startedAt: i.started_at,
      seenAt: i.seen_at,
      info: i.info,
    })),
    lanes: lanes.map((l) => ({ lane: l.lane, holder: l.holder, pending: Number(l.pending) })),
  };
}
