import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { sendError } from '../errors';
import { schemas } from '../validate';

export function healthRoutes(app: FastifyInstance, deps: { pool: Pool; drainStalled?: () => string | null }) {
  app.get('/healthz', schemas({ summary: 'Liveness', tags: ['operate'], publicAs: 'healthz' }), async () => ({
    ok: true,
  }));
  // Ready means able to accept and to deliver: the database answers and the drain is not stalled.
  app.get(
    '/readyz',
    schemas({
      summary: 'Readiness: the database answers and the drain is not stalled',
      tags: ['operate'],
      publicAs: 'readyz',
    }),
    async (req, reply) => {
      try {
        await deps.pool.query('SELECT 1');
      } catch (err) {
        // Public endpoint: the reason goes to the log, never to the caller.
        req.log.warn({ err: (err as Error).message }, 'not ready: the database does not answer');
        return sendError(reply, 503, 'not_ready', 'not ready: the database does not answer');
      }
      // What the drain waits for (a query name and a duration) is no secret, and tells the operator why.
      const stalled = deps.drainStalled?.() ?? null;
      if (stalled)
        return sendError(reply, 503, 'drain_stalled', `not ready: the drain is stalled: ${stalled}`);
      return { ok: true };
    },
  );
}
