import type { Pool } from 'pg';
import { RouteSchema, type RouteConfig } from '../../config/route-schema';
import { inTransaction, rows, type Queryable } from '../pool';
import { syncRoutes } from '../queue/sync-routes';

/**
 * Runs one route change in a transaction that first locks the version row, so changes from every
 * instance and the CLI apply one at a time. When `fn` reports a change, the version is bumped and
 * sluice_route (what the enqueue function fans out with) is rewritten from the stored configs, in the
 * same transaction: the registry and the enqueue never disagree after a commit.
 */
export async function changeRoutes<T>(
  pool: Pool,
  fn: (tx: Queryable) => Promise<{ changed: boolean; result: T }>,
): Promise<T> {
  return inTransaction(pool, async (tx) => {
    await tx.query('SELECT version FROM sluice_route_version FOR UPDATE');
    const { changed, result } = await fn(tx);
    if (changed) {
      await tx.query('UPDATE sluice_route_version SET version = version + 1');
      const stored = await rows<{ config: unknown }>(tx, 'SELECT config FROM sluice_route_config');
      const routes: RouteConfig[] = [];
      for (const s of stored) {
        const parsed = RouteSchema.safeParse(s.config);
        if (parsed.success) routes.push(parsed.data);
      }
      await syncRoutes(tx, routes);
    }
    return result;
  });
}

/** Inserts or replaces a route's config; pause state is kept (it is not config). */
export async function putRoute(
  tx: Queryable,
  route: RouteConfig,
  o: { origin: 'file' | 'api'; by: string; fileHash?: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO sluice_route_config (name, config, origin, file_hash, updated_by)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name) DO UPDATE SET config = excluded.config, origin = excluded.origin,
       file_hash = excluded.file_hash, updated_by = excluded.updated_by, updated_at = now()`,
    [route.name, JSON.stringify(route), o.origin, o.fileHash ?? null, o.by],
  );
}

export async function removeRoute(tx: Queryable, name: string): Promise<boolean> {
  const r = await tx.query('DELETE FROM sluice_route_config WHERE name = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

/** Pauses or resumes; false when there is no such route or it already was in that state. */
export async function setPaused(tx: Queryable, name: string, paused: boolean, by: string): Promise<boolean> {
  const r = await tx.query(
    `UPDATE sluice_route_config
        SET paused = $2, paused_at = CASE WHEN $2 THEN now() END, paused_by = CASE WHEN $2 THEN $3 END,
            updated_at = now()
      WHERE name = $1 AND paused <> $2`,
    [name, paused, by],
  );
  return (r.rowCount ?? 0) > 0;
}

/** A deleted route's waiting rows become dead letters (visible, replayable once the route exists again). */
export async function deadLetterWaiting(tx: Queryable, route: string, why: string): Promise<number> {
  const r = await tx.query(
    `UPDATE event_queue SET state = 'dead', last_error = $2, done_at = now(), updated_at = now()
      WHERE route = $1 AND state = 'pending'`,
    [route, why],
  );
  return r.rowCount ?? 0;
}
