import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { schemas } from '../validate';

export function metricsRoutes(app: FastifyInstance, deps: { metrics: Registry }) {
  app.get(
    '/metrics',
    schemas({
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['operate'],
      publicAs: 'metrics',
    }),
    async (_req, reply) => {
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
}
