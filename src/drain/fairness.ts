import type { RouteConfig } from '../config/route-schema';
import type { RouteQuota } from '../db/queue/claim';

/** Share of the in-flight window one route may hold while other routes are configured. */
export const ROUTE_WINDOW_SHARE = 0.75;

/**
 * The claim window's fairness policy, in one place: how many rows each route may take in the next claim.
 * A route never holds more than ROUTE_WINDOW_SHARE of the window while there are other routes, so a
 * slow route's backlog always leaves room for the rest; within a claim the database takes the routes'
 * rows round robin, live before bulk (claim.ts), each route offering at most the claim's whole `limit`.
 * Routes are the ones this process can call.
 */
export function routeQuotas(
  routes: Iterable<RouteConfig>,
  inFlightByRoute: ReadonlyMap<string, number>,
  limit: number,
  maxInFlight: number,
): RouteQuota[] {
  const list = [...routes];
  const cap = list.length > 1 ? Math.ceil(maxInFlight * ROUTE_WINDOW_SHARE) : maxInFlight;
  return list.map((r) => ({
    route: r.name,
    quota: Math.max(0, Math.min(limit, cap - (inFlightByRoute.get(r.name) ?? 0))),
    bulk: r.priority === 'bulk',
  }));
}
