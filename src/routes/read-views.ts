import type { Queryable } from '../db/pool';
import { listStoredRoutes } from '../db/routes/read-routes';
import { failureClocks } from '../db/routes/route-health';
import { routeView, type RouteView } from './view';

/** The routes as the API and the CLI show them, read fresh: stored state, window and failure clock. */
export async function readRouteViews(db: Queryable, name?: string): Promise<RouteView[]> {
  const [stored, clocks] = await Promise.all([listStoredRoutes(db, name), failureClocks(db)]);
  const now = Date.now();
  return stored.map((s) => routeView(s, now, clocks.get(s.name)));
}
