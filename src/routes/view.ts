import { disableAfterMs, type RouteConfig } from '../config/route-schema';
import type { StoredRoute } from '../db/routes/read-routes';
import { isOpen, nextOpen } from './window';

/** What the API, the CLI and status show of a route; secrets in its options are masked. */
export interface RouteView {
  name: string;
  origin: 'file' | 'api';
  paused: boolean;
  pausedAt: string | null;
  pausedBy: string | null;
  /** Why the drain claims nothing for it now: paused, outside its delivery window, or null (open). */
  closed: 'paused' | 'window' | null;
  /** Its delivery window now: open or not, and when it next opens (null while open). */
  window: { timeZone: string; open: boolean; nextOpenAt: string | null } | null;
  /**
   * Its failure clock: every attempt has failed since `since`; `disablesAt` is when auto-disable pauses it
   * (since + disableAfter; null when `disableAfter` is off or it is already paused). Null: not failing.
   */
  failing: { since: string; disablesAt: string | null } | null;
  updatedBy: string;
  updatedAt: string;
  createdAt: string;
  config: unknown;
}

// Option keys whose values are credentials (webhook secrets, tokens, auth headers).
const SECRET_KEY = /secret|token|password|authorization|api[-_]?key|credential/i;

export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, SECRET_KEY.test(k) && x !== null ? '[masked]' : maskSecrets(x)]),
  );
}

export function windowState(config: Pick<RouteConfig, 'window'>, now: number): RouteView['window'] {
  const w = config.window;
  if (!w) return null;
  const next = nextOpen(w, now);
  return {
    timeZone: w.timeZone,
    open: isOpen(w, now),
    nextOpenAt: next === null ? null : new Date(next).toISOString(),
  };
}

export function failingState(
  config: Pick<RouteConfig, 'disableAfter'>,
  paused: boolean,
  since: Date | undefined,
): RouteView['failing'] {
  if (!since) return null;
  const after = disableAfterMs(config);
  return {
    since: since.toISOString(),
    disablesAt: after === null || paused ? null : new Date(since.getTime() + after).toISOString(),
  };
}

/** `failingSince`: the route's failure clock (failureClocks in db/routes/route-health.ts), if running. */
export function routeView(s: StoredRoute, now: number, failingSince?: Date): RouteView {
  const config = s.config as RouteConfig;
  const window = windowState(config, now);
  return {
    name: s.name,
    origin: s.origin,
    paused: s.paused,
    pausedAt: s.pausedAt?.toISOString() ?? null,
    pausedBy: s.pausedBy,
    closed: s.paused ? 'paused' : window && !window.open ? 'window' : null,
    window,
    failing: failingState(config, s.paused, failingSince),
    updatedBy: s.updatedBy,
    updatedAt: s.updatedAt.toISOString(),
    createdAt: s.createdAt.toISOString(),
    config: { ...config, options: maskSecrets(config.options) },
  };
}
