import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteSchemas } from './validate';

/** Ingestion endpoints are the POST routes tagged `capture` (pushes, webhooks, ...). */
export function isIngestion(req: FastifyRequest): boolean {
  const zod = (req.routeOptions.config as { zod?: RouteSchemas } | undefined)?.zod;
  return req.method === 'POST' && !!zod?.tags?.includes('capture');
}

/** The bucket: the API key (hashed, never kept in clear), else the webhook source, else the address. */
function bucketOf(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)/i.exec(auth) : null;
  if (m) return `key:${createHash('sha256').update(m[1]).digest('hex').slice(0, 24)}`;
  const source = (req.params as { source?: unknown } | undefined)?.source;
  if (typeof source === 'string') return `source:${source.slice(0, 64)}`;
  return `ip:${req.ip}`;
}

/**
 * Per-key rate limit on the ingestion endpoints: `perSecond` requests per key per second, then 429
 * with the error envelope and retry-after. 0 turns it off. Runs after the auth hook, so only valid
 * keys get buckets.
 */
export async function registerIngestRateLimit(app: FastifyInstance, perSecond: number): Promise<void> {
  if (perSecond <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perSecond,
    timeWindow: 1000,
    hook: 'onRequest',
    keyGenerator: bucketOf,
    allowList: (req) => !isIngestion(req),
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(
        new Error(`rate limit of ${ctx.max} requests per second per key exceeded; retry after ${ctx.after}`),
        {
          statusCode: 429,
          code: 'SLUICE_RATE_LIMITED',
        },
      ),
  });
}
