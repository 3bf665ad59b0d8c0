import swagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { RouteSchemas } from './validate';

/** Every route the server registered, documented (has zod schemas) or not: for tests and audits. */
export interface RouteEntry {
  method: string;
  url: string;
  documented: boolean;
}

const jsonSchema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<
    string,
    unknown
  >;

const ERROR_ENVELOPE = {
  description: 'The caller got something wrong: `{ error: { code, message } }`',
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
};

/**
 * A route's zod declarations (`config.zod`, the same schemas its handler validates with) as the
 * Fastify schema @fastify/swagger documents. Only the document uses it: Fastify itself validates
 * nothing, so every error keeps Sluice's envelope. Routes without declarations (the viewer's own files) are hidden.
 */
function describeRoute({ route, url }: { route: RouteOptions; url: string }) {
  const zod = (route.config as { zod?: RouteSchemas } | undefined)?.zod;
  if (!zod) return { url, schema: { hide: true } };
  const response: Record<string, unknown> = {};
  for (const [code, schema] of Object.entries(zod.response ?? {}))
    response[code] = { description: `HTTP ${code}`, ...jsonSchema(schema) };
  response['4XX'] = ERROR_ENVELOPE;
  return {
    url,
    schema: {
      summary: zod.summary,
      tags: zod.tags,
      security: zod.auth === false ? [] : [{ bearer: [] }],
      ...((zod.description || zod.publicAs) && {
        description: [
          zod.description,
          zod.publicAs && `Public without a key when SLUICE_PUBLIC_ENDPOINTS lists "${zod.publicAs}".`,
        ]
          .filter(Boolean)
          .join(' '),
      }),
      ...(zod.params && { params: jsonSchema(zod.params) }),
      ...(zod.querystring && { querystring: jsonSchema(zod.querystring) }),
      ...(zod.headers && { headers: jsonSchema(zod.headers) }),
      ...(zod.body && { body: jsonSchema(zod.body) }),
      response,
    },
  };
}

/**
 * Registers @fastify/swagger before any route, so it sees every route (including those other parts
 * register later), and keeps the catalog of all routes for the tests.
 */
export function registerOpenApi(app: FastifyInstance): RouteEntry[] {
  const catalog: RouteEntry[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    if ((r.schema as { hide?: boolean } | undefined)?.hide) return;
    const documented = !!(r.config as { zod?: RouteSchemas } | undefined)?.zod;
    // Fastify adds HEAD for every GET by itself; the GET stands for both.
    for (const method of [r.method].flat())
      if (method !== 'HEAD') catalog.push({ method, url: r.url, documented });
  });
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sluice',
        version: '0.1.0',
        description:
          'Change-data-capture event queue. Every route needs `Authorization: Bearer <key>` unless marked otherwise. Errors are `{ "error": { "code", "message" } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: describeRoute,
  });
  return catalog;
}
