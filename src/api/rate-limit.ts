import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteSchemas } from './validate';

/** Ingestion endpoints are the POST routes tagged `capture` (pushes, webhooks, ...). */
export function isIngestion(req: FastifyRequest): boolean {
  const zod = (req.routeOptions.config as { zod?: RouteSchemas } | undefined)?.zod;
  return req.method === 'POST' && !!zod?.tags?.includes('capture');
}

/** The bucket of a key-authenticated request: the API key (hashed, never kept in clear), else the address. */
function bucketOf(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)/i.exec(auth) : null;
  if (m) return `key:${createHash('sha256').update(m[1]).digest('hex').slice(0, 24)}`;
  return `ip:${req.ip}`;
}

/**
 * Route config (`config.rateLimit`) for an endpoint that authenticates by signature: the limit counts
 * after the check (preHandler), a verified request against its sender's bucket, anything else (unsigned,
 * badly signed, unknown sender) against the client address. `senderOf` returns the verified sender or null.
 */
export function countAfterVerification(senderOf: (req: FastifyRequest) => string | null) {
  return {
    hook: 'preHandler' as const,
    keyGenerator: (req: FastifyRequest) => {
      const sender = senderOf(req);
      return sender === null ? `ip:${req.ip}` : `source:${sender}`;
    },
  };
}

/**
 * Rate limit on the ingestion endpoints: `perSecond` requests per bucket per second, then 429 with the
 * error envelope and retry-after. 0 turns it off. Key-authenticated routes count in onRequest, after the
 * auth hook, so only valid keys get buckets; signed routes count per countAfterVerification.
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
        new Error(
          `rate limit of ${ctx.max} requests per second exceeded (per API key, webhook source or, unauthenticated, per address); retry after ${ctx.after}`,
        ),
        {
          statusCode: 429,
          code: 'SLUICE_RATE_LIMITED',
        },
      ),
  });
}
