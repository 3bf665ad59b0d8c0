import type { FastifyInstance } from 'fastify';
import { schemas } from '../validate';

export function statusRoutes(app: FastifyInstance, deps: { status(): Promise<unknown> }) {
  app.get(
    '/v1/status',
    schemas({ summary: 'Queue, consumer, relay, breakers and planner state', tags: ['operate'] }),
    async () => deps.status(),
  );
}
