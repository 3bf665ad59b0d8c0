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
