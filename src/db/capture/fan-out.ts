import { rows, type Queryable } from '../pool';

/**
 * Fans out up to `max` journaled trigger captures into events (sluice_fan_out_captures, migration 0005),
 * in one transaction. Returns how many changes went out, 0 when the journal is empty, or -1 when another
 * process is fanning out right now (it loops until the journal is empty).
 */
export async function fanOutCaptures(db: Queryable, max: number): Promise<number> {
  const [r] = await rows<{ n: number }>(db, `SELECT sluice_fan_out_captures($1) AS n`, [max]);
  return r.n;
}

/** Fans out until the journal is empty (waiting out another process's fan-out); returns the count. */
export async function fanOutAll(db: Queryable, slice = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await fanOutCaptures(db, slice);
    if (n === 0) return total;
    if (n < 0) await new Promise((r) => setTimeout(r, 20));
    else total += n;
  }
}
