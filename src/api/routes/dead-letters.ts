import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { NameSchema } from '../../config/route-schema';
import { listDead } from '../../db/queue/list-dead';
import { replayDead } from '../../db/queue/replay-dead';
import { sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

/** Queue row ids are bigints: digits only, so they reach SQL as safe bound parameters. */
const RowId = z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be a positive integer id');
const Since = z.iso.datetime({ offset: true }).describe('ISO 8601 time; only rows that died at or after it');

const ListQuery = z
  .object({
    route: NameSchema.optional(),
    since: Since.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const ReplayBody = z
  .object({
    ids: z.array(RowId).min(1).max(10_000).optional(),
    route: NameSchema.optional(),
    since: Since.optional(),
    all: z
      .literal(true)
      .optional()
      .describe('replay every dead letter (needed when no other selector is given)'),
  })
  .strict()
  .refine((b) => b.all || b.ids || b.route || b.since, {
    message: 'give ids, route or since (or all: true to replay every dead letter)',
  });

const DeadLetterSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  route: z.string(),
  entity: z.string(),
  recordId: z.string(),
  op: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  lastResponse: z.string().nullable(),
  deadAt: z.string(),
});
const Replayed = z.object({ replayed: z.number().int() });

export function deadLetterRoutes(app: FastifyInstance, deps: { pool: Pool; onAccepted(): void }) {
  app.get(
    '/v1/dead-letters',
    schemas({
      summary: 'List dead letters, newest first',
      tags: ['dead-letters'],
      querystring: ListQuery,
      response: { 200: z.object({ items: z.array(DeadLetterSchema) }) },
    }),
    async (req, reply) => {
      const q = parseOr400(ListQuery, req.query, reply, 'invalid_query', 'invalid dead-letter query');
      if (!q) return reply;
      const items = await listDead(deps.pool, {
        route: q.route,
        since: q.since ? new Date(q.since) : undefined,
        limit: q.limit,
      });
      return { items };
    },
  );

  app.post(
    '/v1/dead-letters/replay',
    schemas({
      summary: 'Replay dead letters (back to pending, attempts reset)',
      tags: ['dead-letters'],
      body: ReplayBody,
      response: { 200: Replayed },
    }),
    async (req, reply) => {
      const body = parseOr400(ReplayBody, req.body, reply, 'invalid_body', 'invalid replay selector');
      if (!body) return reply;
      const replayed = await replayDead(deps.pool, {
        ids: body.ids,
        route: body.route,
        since: body.since ? new Date(body.since) : undefined,
        all: body.all,
      });
      if (replayed > 0) deps.onAccepted();
      return { replayed };
    },
  );

  const IdParams = z.object({ id: RowId }).strict();
  app.post(
    '/v1/dead-letters/:id/replay',
    schemas({
      summary: 'Replay one dead letter',
      tags: ['dead-letters'],
      params: IdParams,
      response: { 200: Replayed },
    }),
    async (req, reply) => {
      const params = parseOr400(IdParams, req.params, reply, 'invalid_id', 'id must be a positive integer');
      if (!params) return reply;
      const replayed = await replayDead(deps.pool, { ids: [params.id] });
      if (replayed === 0)
        return sendError(reply, 404, 'dead_letter_not_found', `no dead letter with id ${params.id}`);
      deps.onAccepted();
      return { replayed };
    },
  );
}
