import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { EntitySchema, NameSchema } from '../../config/route-schema';
import {
  ATTEMPT_OUTCOMES,
  decodeCursor,
  encodeCursor,
  eventAttempts,
  listAttempts,
  STATUS_FILTERS,
} from '../../db/attempts/list-attempts';
import { sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

const ListQuery = z
  .object({
    route: NameSchema.optional(),
    entity: EntitySchema.refine((e) => e !== '*', 'must be an entity name').optional(),
    recordId: z.string().min(1).max(512).optional(),
    eventId: z.uuid().optional(),
    status: z
      .enum(STATUS_FILTERS)
      .optional()
      .describe('succeeded, failed (every failed attempt, dead ones included), dead, deferred'),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('ISO 8601 time; attempts started at or after it'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().min(1).max(200).optional().describe('`next` of the previous page'),
  })
  .strict();

const AttemptSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  route: z.string(),
  entity: z.string(),
  recordId: z.string(),
  attempt: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number().int(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  deferred: z.boolean().describe('not sent (breaker open): the attempt was not spent'),
  httpStatus: z.number().int().nullable(),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  response: z.string().nullable().describe('the first 512 characters of the response body'),
});

const EventParams = z.object({ eventId: z.uuid() }).strict();

/** The attempt log: /v1/deliveries (search, newest first, cursor pages) and one event's history. */
export function deliveryRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get(
    '/v1/deliveries',
    schemas({
      summary: 'Delivery attempts, newest first (cursor-paginated)',
      description:
        'Every attempt of every route, kept for SLUICE_ATTEMPT_RETENTION (7 days). Filters combine with AND; ' +
        '`next` is the cursor of the following page (null on the last).',
      tags: ['deliveries'],
      querystring: ListQuery,
      response: { 200: z.object({ items: z.array(AttemptSchema), next: z.string().nullable() }) },
    }),
    async (req, reply) => {
      const q = parseOr400(ListQuery, req.query, reply, 'invalid_query', 'invalid deliveries query');
      if (!q) return reply;
      const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (beforeId === null)
        return sendError(reply, 400, 'invalid_cursor', 'cursor is not one this API gave out');
      const page = await listAttempts(deps.pool, {
        ...q,
        since: q.since ? new Date(q.since) : undefined,
        beforeId,
      });
      const last = page.items.at(-1);
      return { items: page.items, next: page.more && last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    '/v1/events/:eventId/attempts',
    schemas({
      summary: "An event's delivery history: every attempt on every route, oldest first",
      tags: ['deliveries'],
      params: EventParams,
      response: { 200: z.object({ eventId: z.string(), items: z.array(AttemptSchema) }) },
    }),
    async (req, reply) => {
      const p = parseOr400(EventParams, req.params, reply, 'invalid_event_id', 'eventId must be a UUID');
      if (!p) return reply;
      return { eventId: p.eventId, items: await eventAttempts(deps.pool, p.eventId) };
    },
  );
}
