import { rows, type Queryable } from '../pool';

/** A route whose every attempt has failed since `failingSince` (and that is not paused). */
export interface FailingRoute {
  route: string;
  failingSince: Date;
  /** How long it has been failing, by the database's clock, ms. */
  failingMs: number;
}

/** Every route's running failure clock (paused routes too): route -> the first failure since its last success. */
export async function failureClocks(db: Queryable): Promise<Map<string, Date>> {
  const result = await rows<{ route: string; failing_since: Date }>(
    db,
    'SELECT route, failing_since FROM sluice_route_health WHERE failing_since IS NOT NULL',
  );
  return new Map(result.map((r) => [r.route, r.failing_since]));
}

/** Routes with a running failure clock that are not paused (sluice_route_health, written by the settle). */
export async function failingRoutes(db: Queryable): Promise<FailingRoute[]> {
  const result = await rows<{ route: string; failing_since: Date; failing_ms: number }>(
    db,
    `SELECT h.route, h.failing_since, (extract(epoch FROM now() - h.failing_since) * 1000)::float8 AS failing_ms
       FROM sluice_route_health h JOIN sluice_route_config c ON c.name = h.route
      WHERE h.failing_since IS NOT NULL AND NOT c.paused`,
  );
  return result.map((r) => ({ route: r.route, failingSince: r.failing_since, failingMs: r.failing_ms }));
}

/**
 * Pauses the route if it is still failing for at least `afterMs` (checked again under the route
 * change's lock, so an attempt that succeeded meanwhile wins); returns when the failures began, or null.
 */
export async function pauseIfFailing(
  tx: Queryable,
  name: string,
  afterMs: number,
  by: string,
): Promise<Date | null> {
  const [r] = await rows<{ failing_since: Date }>(
    tx,
    `UPDATE sluice_route_config c
        SET paused = true, paused_at = now(), paused_by = $3, updated_at = now()
       FROM sluice_route_health h
      WHERE c.name = $1 AND h.route = c.name AND NOT c.paused
        AND h.failing_since <= now() - make_interval(secs => $2::float8 / 1000)
      RETURNING h.failing_since`,
    [name, afterMs, by],
  );
  return r?.failing_since ?? null;
}

/** Stops a route's failure clock (a resume: what waited gets a fresh `disableAfter`). */
export async function resetFailureClock(tx: Queryable, name: string): Promise<void> {
  await tx.query(
    `UPDATE sluice_route_health SET failing_since = NULL, updated_at = now()
      WHERE route = $1 AND failing_since IS NOT NULL`,
    [name],
  );
}
