import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { sendError } from '../errors';
import { schemas } from '../validate';

export function healthRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get('/healthz', schemas({ summary: 'Liveness', tags: ['operate'], publicAs: 'healthz' }), async () => ({
    ok: true,
  }));
  // Ready means able to accept: the database answers.
  app.get(
    '/readyz',
    schemas({ summary: 'Readiness: the database answers', tags: ['operate'], publicAs: 'readyz' }),
    async (req, reply) => {
      try {
        await deps.pool.query('SELECT 1');
        return { ok: true };
      } catch (err) {
        // Public endpoint: the reason goes to the log, never to the caller.
        req.log.warn({ err: (err as Error).message }, 'not ready: the database does not answer');
        return sendError(reply, 503, 'not_ready', 'not ready: the database does not answer');
      }
    },
  );
}
