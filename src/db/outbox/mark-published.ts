import type { Queryable } from '../pool';

export async function markPublished(db: Queryable, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db.query(
    `UPDATE event_log SET published_at = now() WHERE id = ANY ($1::bigint[]) AND published_at IS NULL`,
    [ids],
  );
  return res.rowCount ?? 0;
}
