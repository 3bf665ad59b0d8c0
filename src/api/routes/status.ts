import type { FastifyInstance } from 'fastify';

export function statusRoutes(app: FastifyInstance, deps: { status(): Promise<unknown> }) {
  app.get('/v1/status', async () => deps.status());
}
