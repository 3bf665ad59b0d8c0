import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { ticketCounts } from '../../db/queue/counts';
import { sendError } from '../errors';

const TicketParam = z.object({ ticket: z.string().uuid() });

export function ticketRoutes(app: FastifyInstance, deps: { pool: Pool }) {
  app.get('/v1/tickets/:ticket', async (req, reply) => {
    const parsed = TicketParam.safeParse(req.params);
    if (!parsed.success) return sendError(reply, 400, 'invalid_ticket', 'ticket must be a UUID');
    const counts = await ticketCounts(deps.pool, parsed.data.ticket);
    if (!counts)
      return sendError(reply, 404, 'ticket_not_found', 'no changes were accepted under this ticket');
    return { ticket: parsed.data.ticket, ...counts };
  });
}
