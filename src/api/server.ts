import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { bearerAuth } from './auth';
import { errorHandler, sendError } from './errors';
import { eventsRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { statusRoutes } from './routes/status';
import { ticketRoutes } from './routes/tickets';

export interface ApiDeps {
  pool: Pool;
  apiKeys: string[];
  logger: FastifyBaseLogger;
  status(): Promise<unknown>;
  /** Called after a push commits (wakes the local drain and relay at once). */
  onAccepted(): void;
}

export function buildServer(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request logs would cost more than the requests at ingestion rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });
  app.setErrorHandler(errorHandler);
  // The API speaks JSON only: any other body type is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  healthRoutes(app, deps);
  app.register(async (v1) => {
    v1.addHook('onRequest', bearerAuth(deps.apiKeys));
    eventsRoutes(v1, deps);
    ticketRoutes(v1, deps);
    statusRoutes(v1, deps);
  });
  return app;
}
