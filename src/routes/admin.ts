import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { RouteConfig } from '../config/route-schema';
import { listStoredRoutes, queuedOf } from '../db/routes/read-routes';
import { pauseIfFailing, resetFailureClock } from '../db/routes/route-health';
import { changeRoutes, deadLetterWaiting, putRoute, removeRoute, setPaused } from '../db/routes/write-routes';
import { mergePatch } from './merge-patch';
import { validateRoute } from './validate-route';

/**
 * Route changes and their policy, in one place for the API, the CLI and the route file:
 * - validated exactly like the route file, refused whole (nothing written) when anything is wrong;
 * - a route with rows still to deliver is deleted only with `force`, which dead-letters its waiting rows
 *   (visible in /v1/dead-letters, replayable once a route of that name exists again): nothing vanishes;
 * - the route file is the seed: a file entry is applied when it is new or differs from what was last
 *   applied from the file, so API changes to a file route last until its entry in the file changes;
 *   a file route removed from the file is deleted, unless rows still wait for it (then it is kept, and
 *   the reload says so).
 * Every change is logged with who made it.
 */

export interface Refusal {
  refused: { status: 400 | 404 | 409; code: string; message: string; details?: unknown };
}
type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

const refuse = (status: Refusal['refused']['status'], code: string, message: string, details?: unknown) =>
  ({ refused: { status, code, message, ...(details !== undefined && { details }) } }) satisfies Refusal;

const invalid = (problems: string[]) =>
  refuse(400, 'invalid_route', `invalid route\n${problems.join('\n')}`, problems);

const audit = (log: Log | undefined, action: string, route: string, by: string, extra: object = {}) =>
  log?.info({ audit: 'route', action, route, by, ...extra }, `route ${action}: ${route} (by ${by})`);

export async function createRoute(
  pool: Pool,
  data: unknown,
  o: { by: string; replace?: boolean; log?: Log },
): Promise<{ route: RouteConfig; replaced: boolean } | Refusal> {
  const checked = validateRoute(data);
  if ('problems' in checked) return invalid(checked.problems);
  const route = checked.route;
  const out = await changeRoutes(pool, async (tx) => {
    const [existing] = await listStoredRoutes(tx, route.name);
    if (existing && !o.replace) return { changed: false, result: 'exists' as const };
    await putRoute(tx, route, { origin: existing?.origin ?? 'api', by: o.by, fileHash: existing?.fileHash });
    return { changed: true, result: existing ? ('replaced' as const) : ('created' as const) };
  });
  if (out === 'exists')
    return refuse(409, 'route_exists', `route "${route.name}" exists (PATCH it, or delete it first)`);
  audit(o.log, out, route.name, o.by);
  return { route, replaced: out === 'replaced' };
}

export async function patchRoute(
  pool: Pool,
  name: string,
  patch: unknown,
  o: { by: string; log?: Log },
): Promise<{ route: RouteConfig } | Refusal> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    return refuse(400, 'invalid_body', 'a PATCH body is a JSON object (a JSON Merge Patch of the route)');
  const rename = (patch as { name?: unknown }).name;
  if (rename !== undefined && rename !== name)
    return refuse(
      400,
      'rename_refused',
      'a route cannot be renamed: create the new one, then delete this one',
    );
  const out = await changeRoutes<{ route: RouteConfig } | Refusal | null>(pool, async (tx) => {
    const [existing] = await listStoredRoutes(tx, name);
    if (!existing) return { changed: false, result: null };
    const checked = validateRoute(mergePatch(existing.config, patch));
    if ('problems' in checked) return { changed: false, result: invalid(checked.problems) };
    await putRoute(tx, checked.route, { origin: existing.origin, by: o.by, fileHash: existing.fileHash });
    return { changed: true, result: { route: checked.route } };
  });
  if (!out) return refuse(404, 'not_found', `no route "${name}"`);
  if ('route' in out) audit(o.log, 'changed', name, o.by, { patch: Object.keys(patch) });
  return out;
}

export async function deleteRoute(
  pool: Pool,
  name: string,
  o: { by: string; force?: boolean; log?: Log },
): Promise<{ deleted: string; deadLettered: number; running: number } | Refusal> {
  type Out =
    | { deleted: string; deadLettered: number; running: number }
    | { busy: { pending: number; running: number } };
  const out = await changeRoutes<Out | null>(pool, async (tx) => {
    const [existing] = await listStoredRoutes(tx, name);
    if (!existing) return { changed: false, result: null };
    const queued = await queuedOf(tx, name);
    if (queued.pending + queued.running > 0 && !o.force) return { changed: false, result: { busy: queued } };
    const deadLettered = await deadLetterWaiting(tx, name, `route "${name}" deleted (by ${o.by})`);
    await removeRoute(tx, name);
    return { changed: true, result: { deleted: name, deadLettered, running: queued.running } };
  });
  if (!out) return refuse(404, 'not_found', `no route "${name}"`);
  if ('busy' in out)
    return refuse(
      409,
      'route_has_rows',
      `route "${name}" has ${out.busy.pending} waiting and ${out.busy.running} running rows; ` +
        'delete with force to dead-letter the waiting ones (replayable), or let them be delivered first (a paused route keeps them waiting)',
      out.busy,
    );
  audit(o.log, 'deleted', name, o.by, { deadLettered: out.deadLettered, running: out.running });
  return out;
}

export async function pauseRoute(
  pool: Pool,
  name: string,
  paused: boolean,
  o: { by: string; log?: Log },
): Promise<{ changed: boolean } | Refusal> {
  const out = await changeRoutes(pool, async (tx) => {
    const [existing] = await listStoredRoutes(tx, name);
    if (!existing) return { changed: false, result: null };
    const changed = await setPaused(tx, name, paused, o.by);
    // Resuming starts the failure clock afresh: what waited gets a full `disableAfter` to get through.
    if (changed && !paused) await resetFailureClock(tx, name);
    return { changed, result: { changed } };
  });
  if (!out) return refuse(404, 'not_found', `no route "${name}"`);
  if (out.changed) audit(o.log, paused ? 'paused' : 'resumed', name, o.by);
  return out;
}

/**
 * Auto-disable: pauses a route whose every attempt has failed for `afterMs`, exactly like a pause by an
 * operator (resume replays what waited). Null when it was not (it recovered, or is paused already).
 */
export async function autoDisableRoute(
  pool: Pool,
  name: string,
  afterMs: number,
  o: { log?: Log },
): Promise<{ failingSince: Date } | null> {
  const by = 'auto-disable';
  const failingSince = await changeRoutes(pool, async (tx) => {
    const since = await pauseIfFailing(tx, name, afterMs, by);
    return { changed: since !== null, result: since };
  });
  if (!failingSince) return null;
  audit(o.log, 'paused', name, by, { failingSince: failingSince.toISOString(), disableAfterMs: afterMs });
  return { failingSince };
}

/** The hash that tells whether a file entry changed since it was last applied. */
export const fileHashOf = (route: RouteConfig) =>
  createHash('sha256').update(JSON.stringify(route)).digest('hex').slice(0, 32);

/** Seeds or re-applies the route file (already validated), by the rule in this file's comment. */
export async function applyRouteFile(
  pool: Pool,
  routes: RouteConfig[],
  o: { by: string; log?: Log },
): Promise<{
  applied: string[];
  removed: string[];
  kept: Array<{ name: string; pending: number; running: number }>;
}> {
  const result = await changeRoutes(pool, async (tx) => {
    const stored = new Map((await listStoredRoutes(tx)).map((s) => [s.name, s]));
    const applied: string[] = [];
    const removed: string[] = [];
    const kept: Array<{ name: string; pending: number; running: number }> = [];
    for (const route of routes) {
      const hash = fileHashOf(route);
      if (stored.get(route.name)?.fileHash === hash) continue;
      await putRoute(tx, route, { origin: 'file', by: o.by, fileHash: hash });
      applied.push(route.name);
    }
    const inFile = new Set(routes.map((r) => r.name));
    for (const s of stored.values()) {
      if (s.origin !== 'file' || inFile.has(s.name)) continue;
      const queued = await queuedOf(tx, s.name);
      if (queued.pending + queued.running > 0) kept.push({ name: s.name, ...queued });
      else if (await removeRoute(tx, s.name)) removed.push(s.name);
    }
    return { changed: applied.length + removed.length > 0, result: { applied, removed, kept } };
  });
  for (const name of result.applied) audit(o.log, 'applied from the route file', name, o.by);
  for (const name of result.removed) audit(o.log, 'deleted (gone from the route file)', name, o.by);
  for (const k of result.kept)
    o.log?.warn(
      { route: k.name, pending: k.pending, running: k.running },
      `route ${k.name} is gone from the route file but rows still wait for it: kept (delete it with force, or let them drain and reload)`,
    );
  return result;
}
