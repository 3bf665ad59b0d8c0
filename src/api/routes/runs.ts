import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { RunSchema } from '../../planner/process-schema';
import { listRuns } from '../../planner/runs';
import { parseOr400, schemas } from '../validate';

const RunsQuery = z
  .object({
    active: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export function runRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get(
    '/v1/runs',
    schemas({
      summary: 'Runs of every process, newest first (active=true: the running ones, which hold the slots)',
      tags: ['planner'],
      querystring: RunsQuery,
      response: { 200: z.object({ items: z.array(RunSchema) }) },
    }),
    async (req, reply) => {
      const q = parseOr400(RunsQuery, req.query, reply, 'invalid_query', 'invalid query');
      if (!q) return reply;
      return { items: await listRuns(deps.pool, { active: q.active === 'true', limit: q.limit }) };
    },
  );
}
