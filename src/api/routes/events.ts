import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { PushBodySchema, pushIds } from '../../capture/push';
import { sendError, zodDetails } from '../errors';

export function eventsRoutes(app: FastifyInstance, deps: { pool: Pool; onAccepted(): void }) {
  // 10,000 ids of up to 256 chars need more than Fastify's 1 MiB default.
  app.post('/v1/events', { bodyLimit: 8 * 1024 * 1024 }, async (req, reply) => {
    const parsed = PushBodySchema.safeParse(req.body);
    if (!parsed.success)
      return sendError(reply, 400, 'invalid_body', 'invalid push body', zodDetails(parsed.error));
    const result = await pushIds(deps.pool, parsed.data);
    deps.onAccepted();
    return reply.code(202).send(result);
  });
}
