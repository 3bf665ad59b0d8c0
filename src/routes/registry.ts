import type { Pool } from 'pg';
import { buildCallers } from '../callout/build-callers';
import type { RouteCaller, RouteCallerHooks } from '../callout/route-caller';
import type { RouteConfig } from '../config/route-schema';
import { listStoredRoutes, routeVersion, type StoredRoute } from '../db/routes/read-routes';
import type { Component } from '../lib/lifecycle';
import { applyRouteFile } from './admin';
import { validateRoute } from './validate-route';
import { routeView, type RouteView } from './view';
import { isOpen } from './window';

type Log = {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
};
type CalloutLog = Parameters<typeof buildCallers>[1];

export interface LiveRoute {
  config: RouteConfig;
  caller: RouteCaller;
}

export interface RouteRegistryOptions {
  /** The route file's routes, applied at start (see admin.ts for the file's precedence); null: none. */
  seed: RouteConfig[] | null;
  /** How often the shared version number is polled, ms. */
  pollMs: number;
  log: Log;
  calloutLog?: CalloutLog;
  hooks?: RouteCallerHooks;
}

/**
 * The live set of routes of this process. Postgres holds the truth (sluice_route_config); the registry
 * seeds it from the route file at start, then polls the one-row version every `pollMs` and, when it
 * moved, rebuilds the callers of routes whose config changed. `routes` and `callers` are updated in
 * place, so the drain and status always read the current set; a replaced caller is shut down only after
 * its callout timeout, so calls in flight finish on it. `closedRoutes()` is what the claim skips.
 */
export class RouteRegistry implements Component {
  readonly routes = new Map<string, RouteConfig>();
  readonly callers = new Map<string, RouteCaller>();
  private stored = new Map<string, StoredRoute>();
  private version: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private readonly retired = new Set<RouteCaller>();
  private observe: RouteCaller['onCallout'] = null;

  constructor(
    private readonly pool: Pool,
    private readonly o: RouteRegistryOptions,
  ) {}

  async start(): Promise<void> {
    if (this.o.seed)
      await applyRouteFile(this.pool, this.o.seed, { by: 'route file (start)', log: this.o.log });
    await this.refresh();
    this.timer = setInterval(
      () =>
        void this.refresh().catch((err: Error) =>
          this.o.log.warn({ err: err.message }, 'route reload failed; retrying'),
        ),
      this.o.pollMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing.catch(() => undefined);
    await Promise.all([...this.callers.values(), ...this.retired].map((c) => c.shutdown()));
  }

  /** Metrics hook for every caller, present and future. */
  set onCallout(fn: RouteCaller['onCallout']) {
    this.observe = fn;
    for (const c of this.callers.values()) c.onCallout = fn;
  }

  current(): Map<string, LiveRoute> {
    const out = new Map<string, LiveRoute>();
    for (const [name, config] of this.routes) {
      const caller = this.callers.get(name);
      if (caller) out.set(name, { config, caller });
    }
    return out;
  }

  /** Routes the drain must not claim for now: paused, or outside their delivery window. */
  closedRoutes(now: Date): string[] {
    const closed: string[] = [];
    for (const [name, s] of this.stored) {
      const w = this.routes.get(name)?.window;
      if (s.paused || (w && !isOpen(w, now.getTime()))) closed.push(name);
    }
    return closed;
  }

  /** `clocks`: the failure clocks read just now (failureClocks), since the registry does not track them. */
  views(now: Date, clocks = new Map<string, Date>()): RouteView[] {
    return [...this.stored.values()].map((s) => routeView(s, now.getTime(), clocks.get(s.name)));
  }

  /** Re-applies the route file (a reload); the caller has validated it. */
  async applyFile(routes: RouteConfig[], why: string): Promise<void> {
    await applyRouteFile(this.pool, routes, { by: `route file (${why})`, log: this.o.log });
    await this.refresh();
  }

  /** Loads the stored routes if their version moved; one refresh at a time. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.catch(() => undefined).then(() => this.load());
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const version = await routeVersion(this.pool);
    if (version === this.version) return;
    const stored = await listStoredRoutes(this.pool);
    const changed: string[] = [];
    const removed: string[] = [];
    for (const s of stored) {
      const checked = validateRoute(s.config);
      if ('problems' in checked) {
        this.o.log.error(
          { route: s.name, problems: checked.problems },
          'stored route is invalid; not applied',
        );
        continue;
      }
      const before = this.routes.get(s.name);
      if (before && JSON.stringify(before) === JSON.stringify(checked.route)) continue;
      const [caller] = buildCallers([checked.route], this.o.calloutLog, this.o.hooks).values();
      caller.onCallout = this.observe;
      this.retire(this.callers.get(s.name));
      this.routes.set(s.name, checked.route);
      this.callers.set(s.name, caller);
      changed.push(s.name);
    }
    const names = new Set(stored.map((s) => s.name));
    for (const name of [...this.routes.keys()].filter((n) => !names.has(n))) {
      this.retire(this.callers.get(name));
      this.routes.delete(name);
      this.callers.delete(name);
      removed.push(name);
    }
    this.stored = new Map(stored.map((s) => [s.name, s]));
    if (this.version !== null || changed.length || removed.length)
      this.o.log.info({ version, changed, removed }, 'routes applied');
    this.version = version;
  }

  /** Calls in flight on a replaced caller finish on it: it is shut down after its callout timeout. */
  private retire(caller: RouteCaller | undefined): void {
    if (!caller) return;
    this.retired.add(caller);
    setTimeout(() => {
      this.retired.delete(caller);
      void caller.shutdown();
    }, caller.route.breaker.timeoutMs + 1_000).unref();
  }
}
