import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { NameSchema } from '../../config/route-schema';
import { LogEntrySchema } from '../../planner/process-schema';
import { readLog } from '../../planner/planner-log';
import { parseOr400, schemas } from '../validate';

const LogQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    process: NameSchema.optional(),
  })
  .strict();

export function plannerLogRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get(
    '/v1/planner/log',
    schemas({
      summary: 'Planner decisions, newest first: why each candidate was or was not started',
      tags: ['planner'],
      querystring: LogQuery,
      response: { 200: z.object({ items: z.array(LogEntrySchema) }) },
    }),
    async (req, reply) => {
      const q = parseOr400(LogQuery, req.query, reply, 'invalid_query', 'invalid query');
      if (!q) return reply;
      return { items: await readLog(deps.pool, q) };
    },
  );
}
