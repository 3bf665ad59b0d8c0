import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { RouteSchemas } from './validate';

interface Collected {
  method: string;
  url: string;
  zod: RouteSchemas;
}

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

/** Path and query parameters as OpenAPI parameter objects, from a zod object's shape. */
function parameters(where: 'path' | 'query', s: z.ZodType | undefined) {
  if (!s) return [];
  const js = jsonSchema(s) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema,
  }));
}

/**
 * Collects every route as it is added (including routes other parts register later) and builds the
 * OpenAPI 3 document from their declared zod schemas, the same ones the handlers validate with.
 */
export function openApiCollector(app: FastifyInstance) {
  const routes: Collected[] = [];
  const all: RouteEntry[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const zod = (r.config as { zod?: RouteSchemas } | undefined)?.zod;
    for (const method of [r.method].flat()) {
      // Fastify adds HEAD for every GET by itself; the GET stands for both.
      if (method === 'HEAD') continue;
      all.push({ method, url: r.url, documented: !!zod });
      if (zod) routes.push({ method: method.toLowerCase(), url: r.url, zod });
    }
  });

  let doc: unknown = null;
  const document = () =>
    (doc ??= {
      openapi: '3.0.3',
      info: {
        title: 'Sluice',
        version: '0.1.0',
        description:
          'Change-data-capture event queue. Every route needs `Authorization: Bearer <key>` unless marked otherwise. Errors are `{ "error": { "code", "message" } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths: routes.reduce<Record<string, Record<string, unknown>>>((paths, r) => {
        const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        const responses: Record<string, unknown> = {};
        for (const [code, schema] of Object.entries(r.zod.response ?? {}))
          responses[code] = {
            description: `HTTP ${code}`,
            content: { 'application/json': { schema: jsonSchema(schema) } },
          };
        responses['4XX'] = { description: 'The caller got something wrong: `{ error: { code, message } }`' };
        (paths[path] ??= {})[r.method] = {
          summary: r.zod.summary,
          tags: r.zod.tags,
          ...(r.zod.auth === false ? { security: [] } : { security: [{ bearer: [] }] }),
          ...(r.zod.publicAs && {
            description: `Public without a key when SLUICE_PUBLIC_ENDPOINTS lists "${r.zod.publicAs}".`,
          }),
          parameters: [...parameters('path', r.zod.params), ...parameters('query', r.zod.querystring)],
          ...(r.zod.body && {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.zod.body) } },
            },
          }),
          responses,
        };
        return paths;
      }, {}),
    });

  return { routes: all, document };
}
