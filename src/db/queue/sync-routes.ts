import type { RouteConfig } from '../../config/route-schema';
import type { Queryable } from '../pool';
import { compileWhere } from './where-jsonpath';

/**
 * Mirrors the config file's routes into sluice_route, which the enqueue function (and so the triggers)
 * fan out with (a route's `match.where` as a jsonpath, see where-jsonpath.ts). Routes no longer in the file are disabled, not deleted, so their queued rows stay visible.
 */
export async function syncRoutes(db: Queryable, routes: RouteConfig[]): Promise<void> {
  await db.query(
    `WITH incoming AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::text[])
                AS r(name, entity, ops_csv, coalesce, enabled, filter)
     ), upserted AS (
       INSERT INTO sluice_route (name, entity, ops, coalesce, enabled, filter, updated_at)
       SELECT name, entity, CASE WHEN ops_csv = '' THEN NULL ELSE string_to_array(ops_csv, ',') END, coalesce, enabled,
              filter::jsonpath, now()
         FROM incoming
       ON CONFLICT (name) DO UPDATE SET entity = excluded.entity, ops = excluded.ops, coalesce = excluded.coalesce,
                                        enabled = excluded.enabled, filter = excluded.filter, updated_at = now()
       RETURNING name
     )
     UPDATE sluice_route SET enabled = false, updated_at = now()
      WHERE enabled AND name <> ALL ($1::text[])`,
    [
      routes.map((r) => r.name),
      routes.map((r) => r.match.entity),
      routes.map((r) => (r.match.ops ?? []).join(',')),
      routes.map((r) => r.coalesce),
      routes.map((r) => r.enabled),
      routes.map((r) => (r.match.where ? compileWhere(r.match.where) : null)),
    ],
  );
}
