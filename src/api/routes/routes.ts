import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { NameSchema, RouteSchema } from '../../config/route-schema';
import { createRoute, deleteRoute, patchRoute, pauseRoute, type Refusal } from '../../routes/admin';
import type { RouteRegistry } from '../../routes/registry';
import { readRouteViews } from '../../routes/read-views';
import { ErrorBody, sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

const Params = z.object({ name: NameSchema }).strict();
const DeleteQuery = z.object({ force: z.enum(['true', 'false']).optional() }).strict();
const PatchBody = z
  .object({})
  .passthrough()
  .describe('A JSON Merge Patch (RFC 7386) of the route: fields given replace, null removes, objects merge');

const RouteViewSchema = z.object({
  name: z.string(),
  origin: z.enum(['file', 'api']),
  paused: z.boolean(),
  pausedAt: z.string().nullable(),
  pausedBy: z.string().nullable(),
  closed: z.enum(['paused', 'window']).nullable(),
  window: z.object({ timeZone: z.string(), open: z.boolean(), nextOpenAt: z.string().nullable() }).nullable(),
  failing: z
    .object({ since: z.string(), disablesAt: z.string().nullable() })
    .nullable()
    .describe('every attempt has failed since `since`; auto-disable pauses the route at `disablesAt`'),
  updatedBy: z.string(),
  updatedAt: z.string(),
  createdAt: z.string(),
  config: z.unknown().describe('the route config, secrets in its options masked'),
});
const Deleted = z.object({
  deleted: z.string(),
  deadLettered: z.number().int().describe('waiting rows turned into dead letters (force)'),
  running: z.number().int().describe('rows in a callout at the time: their attempt finishes'),
});

export interface RoutesApiDeps {
  pool: Pool;
  routes: Pick<RouteRegistry, 'refresh'>;
}

/** /v1/routes: the live routes, changed without a restart (policy in routes/admin.ts). */
export function routesRoutes(app: FastifyInstance, deps: RoutesApiDeps) {
  const view = async (name: string) => {
    const [v] = await readRouteViews(deps.pool, name);
    return v ?? null;
  };
  const refused = (reply: FastifyReply, r: Refusal) =>
    sendError(reply, r.refused.status, r.refused.code, r.refused.message, r.refused.details);
  // The change is applied here before the answer; other instances apply it at their next poll.
  const applied = async (reply: FastifyReply, name: string, status = 200) => {
    await deps.routes.refresh();
    return reply.code(status).send(await view(name));
  };
  const params = (req: { params: unknown }, reply: FastifyReply) =>
    parseOr400(Params, req.params, reply, 'invalid_params', 'invalid route name');
  const log = (req: { log: { info(o: object, m: string): void; warn(o: object, m: string): void } }) =>
    req.log;

  app.get(
    '/v1/routes',
    schemas({
      summary: 'Every route, with its state (paused, delivery window) and config (secrets masked)',
      tags: ['routes'],
      response: { 200: z.object({ items: z.array(RouteViewSchema) }) },
    }),
    async () => ({ items: await readRouteViews(deps.pool) }),
  );

  app.get(
    '/v1/routes/:name',
    schemas({
      summary: 'One route',
      tags: ['routes'],
      params: Params,
      response: { 200: RouteViewSchema, 404: ErrorBody },
    }),
    async (req, reply) => {
      const p = params(req, reply);
      if (!p) return reply;
      return (await view(p.name)) ?? sendError(reply, 404, 'not_found', `no route "${p.name}"`);
    },
  );

  app.post(
    '/v1/routes',
    schemas({
      summary: 'Create a route (validated like the route file), applied without a restart',
      tags: ['routes'],
      body: RouteSchema,
      response: { 201: RouteViewSchema, 400: ErrorBody, 409: ErrorBody },
    }),
    async (req, reply) => {
      const out = await createRoute(deps.pool, req.body ?? {}, { by: 'api', log: log(req) });
      if ('refused' in out) return refused(reply, out);
      return applied(reply, out.route.name, 201);
    },
  );

  app.patch(
    '/v1/routes/:name',
    schemas({
      summary:
        'Change a route (JSON Merge Patch, validated like the route file); queued rows go out with the new config',
      tags: ['routes'],
      params: Params,
      body: PatchBody,
      response: { 200: RouteViewSchema, 400: ErrorBody, 404: ErrorBody },
    }),
    async (req, reply) => {
      const p = params(req, reply);
      if (!p) return reply;
      const out = await patchRoute(deps.pool, p.name, req.body ?? {}, { by: 'api', log: log(req) });
      if ('refused' in out) return refused(reply, out);
      return applied(reply, p.name);
    },
  );

  app.delete(
    '/v1/routes/:name',
    schemas({
      summary:
        'Delete a route. Refused (409 route_has_rows) while rows wait for it, unless force=true: its waiting rows become dead letters',
      tags: ['routes'],
      params: Params,
      querystring: DeleteQuery,
      response: { 200: Deleted, 404: ErrorBody, 409: ErrorBody },
    }),
    async (req, reply) => {
      const p = params(req, reply);
      if (!p) return reply;
      const q = parseOr400(DeleteQuery, req.query ?? {}, reply, 'invalid_query', 'invalid query');
      if (!q) return reply;
      const out = await deleteRoute(deps.pool, p.name, {
        by: 'api',
        force: q.force === 'true',
        log: log(req),
      });
      if ('refused' in out) return refused(reply, out);
      await deps.routes.refresh();
      return out;
    },
  );

  for (const action of ['pause', 'resume'] as const)
    app.post(
      `/v1/routes/:name/${action}`,
      schemas({
        summary:
          action === 'pause'
            ? 'Pause a route on every instance: it claims nothing, its rows wait (calls in flight finish)'
            : 'Resume a paused route: its waiting rows flow again',
        tags: ['routes'],
        params: Params,
        response: { 200: RouteViewSchema, 404: ErrorBody },
      }),
      async (req, reply) => {
        const p = params(req, reply);
        if (!p) return reply;
        const out = await pauseRoute(deps.pool, p.name, action === 'pause', { by: 'api', log: log(req) });
        if ('refused' in out) return refused(reply, out);
        return applied(reply, p.name);
      },
    );
}
