import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GroupCommitter } from '../../capture/group-commit';
import { PushBodySchema, pushItem } from '../../capture/push';
import { ErrorBody } from '../errors';
import { parseOr400, schemas } from '../validate';

const Accepted = z.object({ ticket: z.string().uuid(), accepted: z.number().int() });

export function eventsRoutes(app: FastifyInstance, deps: { ingest: GroupCommitter; onAccepted(): void }) {
  app.post(
    '/v1/events',
    {
      // 10,000 ids of up to 256 chars need more than Fastify's 1 MiB default.
      bodyLimit: 8 * 1024 * 1024,
      ...schemas({
        summary: 'Push changes by record id',
        tags: ['capture'],
        body: PushBodySchema,
        response: { 202: Accepted, 400: ErrorBody, 413: ErrorBody, 429: ErrorBody },
      }),
    },
    async (req, reply) => {
      const body = parseOr400(PushBodySchema, req.body, reply, 'invalid_body', 'invalid push body');
      if (!body) return reply;
      // Answered after its group's commit; onAccepted then notifies peers, coalesced (no in-transaction NOTIFY).
      const { ticket, accepted } = await deps.ingest.submit(pushItem(body));
      deps.onAccepted();
      return reply.code(202).send({ ticket, accepted });
    },
  );
}
