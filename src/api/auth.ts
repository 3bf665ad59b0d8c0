import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer-key check. Keys are compared as SHA-256 digests with timingSafeEqual, so neither the key's
 * content nor its length leaks through timing; every key is compared, match or not.
 */
export function bearerAuth(keys: string[]) {
  const digests = keys.map(digest);
  return async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return sendError(reply, 401, 'unauthorized', 'missing bearer API key');
    const given = digest(match[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) return sendError(reply, 401, 'unauthorized', 'invalid API key');
  };
}

/** Operational endpoints an operator may open to callers without a key (SLUICE_PUBLIC_ENDPOINTS). */
export const PUBLIC_ABLE = ['healthz', 'readyz', 'metrics', 'docs'] as const;
export type PublicAble = (typeof PUBLIC_ABLE)[number];

/**
 * One onRequest hook for the whole server: every route needs the key unless it declares `auth: false`
 * (it authenticates otherwise, e.g. signed webhooks, or serves no data, e.g. the dashboard shell) or
 * is an operational endpoint listed in `publicEndpoints`. Unknown paths fall through to the 404.
 */
export function authHook(keys: string[], publicEndpoints: readonly string[]) {
  const authenticate = bearerAuth(keys);
  const open = new Set(publicEndpoints);
  return async function requireKey(req: FastifyRequest, reply: FastifyReply) {
    const zod = (req.routeOptions.config as { zod?: { auth?: boolean; publicAs?: string } } | undefined)?.zod;
    if (!zod || zod.auth === false) return;
    if (zod.publicAs && open.has(zod.publicAs)) return;
    return authenticate(req, reply);
  };
}
