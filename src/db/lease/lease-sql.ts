import { rows, type Queryable } from '../pool';

export interface LeaseRow {
  holder: string;
  term: number;
  expires_at: Date;
}

/**
 * Takes the named lease if it is free or expired (bumping the term), or extends it if `holder` already
 * has it at `term`. Returns the lease as it stands afterwards; the caller leads iff holder matches.
 */
export async function acquireOrRenew(
  db: Queryable,
  name: string,
  holder: string,
  term: number | null,
  ttlMs: number,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<LeaseRow | null> {
  const res = await db.query<{ holder: string; term: string; expires_at: Date }>({
    // pg rejects the call after timeoutMs, and the pool drops that connection (a hung one included).
    ...(timeoutMs && { query_timeout: timeoutMs }),
    text: `INSERT INTO sluice_leader AS l (name, holder, term, expires_at)
     VALUES ($1, $2, 1, now() + make_interval(secs => $4::float8 / 1000))
     ON CONFLICT (name) DO UPDATE
        SET holder = excluded.holder,
            term = CASE WHEN l.holder = excluded.holder AND l.term = $3 AND l.expires_at > now() THEN l.term ELSE l.term + 1 END,
            expires_at = excluded.expires_at
      WHERE l.expires_at <= now() OR (l.holder = excluded.holder AND l.term = $3)
     RETURNING l.holder, l.term, l.expires_at`,
    values: [name, holder, term, ttlMs],
  });
  const row = res.rows[0];
  if (row) return { holder: row.holder, term: Number(row.term), expires_at: row.expires_at };
  return null;
}

/** Gives the lease up at once (clean shutdown) so a standby need not wait for expiry. */
export async function releaseLease(db: Queryable, name: string, holder: string, term: number): Promise<void> {
  await db.query(
    `UPDATE sluice_leader SET expires_at = now() WHERE name = $1 AND holder = $2 AND term = $3`,
    [name, holder, term],
  );
}

export async function readLease(db: Queryable, name: string): Promise<(LeaseRow & { live: boolean }) | null> {
  const [row] = await rows<{ holder: string; term: string; expires_at: Date; live: boolean }>(
    db,
    `SELECT holder, term, expires_at, expires_at > now() AS live FROM sluice_leader WHERE name = $1`,
    [name],
  );
  return row
    ? { holder: row.holder, term: Number(row.term), expires_at: row.expires_at, live: row.live }
    : null;
}
