import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ticketCounts } from '../../db/queue/counts';
import { sendError } from '../errors';
import { parseOr400, schemas } from '../validate';

const TicketParams = z.object({ ticket: z.string().uuid() });

export function ticketRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get(
    '/v1/tickets/:ticket',
    schemas({ summary: 'What became of one push', tags: ['capture'], params: TicketParams }),
    async (req, reply) => {
      const params = parseOr400(TicketParams, req.params, reply, 'invalid_ticket', 'ticket must be a UUID');
      if (!params) return reply;
      const counts = await ticketCounts(deps.pool, params.ticket);
      if (!counts)
        return sendError(reply, 404, 'ticket_not_found', 'no changes were accepted under this ticket');
      return { ticket: params.ticket, ...counts };
    },
  );
}
