import type { Pool } from 'pg';
import type { AlertNotifier } from '../callout/alerts';
import { disableAfterMs, type RouteConfig } from '../config/route-schema';
import { failingRoutes } from '../db/routes/route-health';
import { autoDisableRoute } from './admin';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * How often the leader checks, ms: a quarter of the shortest `disableAfter`, between 250 ms and 5 s (the next
 * check is scheduled after a pass, so a route added later with a short `disableAfter` waits at most 5 s).
 */
export function checkEveryMs(routes: Iterable<RouteConfig>): number {
  let shortest = Infinity;
  for (const r of routes) shortest = Math.min(shortest, disableAfterMs(r) ?? Infinity);
  return Math.max(250, Math.min(5_000, Math.floor(shortest / 4)));
}

/**
 * One auto-disable pass (a leader duty): every route whose failure clock (sluice_route_health, kept by
 * the settle statement) has run for its `disableAfter` is paused and the `route-disabled` alert goes out
 * through the alerts route. Returns the routes it paused.
 */
export async function autoDisablePass(
  pool: Pool,
  routes: ReadonlyMap<string, RouteConfig>,
  alerts: Pick<AlertNotifier, 'notify'>,
  log: Log,
): Promise<string[]> {
  const paused: string[] = [];
  for (const f of await failingRoutes(pool)) {
    const route = routes.get(f.route);
    const afterMs = route ? disableAfterMs(route) : null;
    if (afterMs === null || f.failingMs < afterMs) continue;
    const done = await autoDisableRoute(pool, f.route, afterMs, { log });
    if (!done) continue;
    paused.push(f.route);
    alerts.notify('route-disabled', {
      route: f.route,
      summary:
        `route "${f.route}" paused: every attempt failed since ${done.failingSince.toISOString()} ` +
        `(disableAfter ${Math.round(afterMs / 1000)} s); its rows wait, resume it to deliver them`,
      failingSince: done.failingSince.toISOString(),
    });
  }
  return paused;
}
