import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { Registry } from 'prom-client';
import { GroupCommitter, type GroupCommitOptions } from '../capture/group-commit';
import type { RouteRegistry } from '../routes/registry';
import { authHook } from './auth';
import { errorHandler, sendError } from './errors';
import { registerJsonParser } from './json-depth';
import { registerOpenApi, type RouteEntry } from './openapi';
import { registerIngestRateLimit } from './rate-limit';
import { dashboardRoutes } from './routes/dashboard';
import { deadLetterRoutes } from './routes/dead-letters';
import { deliveryRoutes } from './routes/deliveries';
import { docsRoutes } from './routes/docs';
import { eventsRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { plannerLogRoutes } from './routes/planner-log';
import { plannerSettingsRoutes } from './routes/planner-settings';
import { processRoutes, type PlannerApiDeps } from './routes/processes';
import { routesRoutes } from './routes/routes';
import { runRoutes } from './routes/runs';
import { statusRoutes } from './routes/status';
import { ticketRoutes } from './routes/tickets';
import { webhookRoutes } from './routes/webhooks';
import type { SigningSecrets } from '../config/signing';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered (but the API viewer's own files), with whether it declares its schemas. */
    routeCatalog: RouteEntry[];
  }
}

export interface ApiDeps {
  pool: Pool;
  apiKeys: string[];
  logger: FastifyBaseLogger;
  status(): Promise<unknown>;
  /** source -> secret of the signed webhooks. */
  webhookSecrets: Record<string, SigningSecrets>;
  /** Largest webhook body, bytes. */
  webhookBodyLimit: number;
  /** Group commit of pushes and webhooks (SLUICE_INGEST_GROUP_MAX, SLUICE_INGEST_GROUPS_IN_FLIGHT). */
  ingestGroup?: GroupCommitOptions;
  /** Called after a push commits (wakes the local drain and relay at once). */
  onAccepted(): void;
  metrics: Registry;
  /** Operational endpoints open without a key: any of healthz, readyz, metrics, docs. */
  publicEndpoints: readonly string[];
  /** Why the drain is stalled (the watchdog's reason), or null: /readyz answers 503 while it is. */
  drainStalled?: () => string | null;
  /** Requests per key per second on the ingestion endpoints; 0: no limit. */
  ingestRatePerSecond: number;
  /** The live route registry behind /v1/routes. */
  routes: Pick<RouteRegistry, 'refresh'>;
  /** The process registry and planner behind /v1/processes, /v1/runs and /v1/planner/{log,settings}. */
  planner: PlannerApiDeps;
}

export function buildServer(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request logs would cost more than the requests at ingestion rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Router-level rejections (malformed URL, overlong path parameter) in the same error envelope.
    frameworkErrors: (err, _req, reply) =>
      sendError(
        reply,
        err.statusCode ?? 400,
        err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'bad_url',
        err.message.slice(0, 200),
      ),
  });
  app.setErrorHandler(errorHandler);
  // The API speaks JSON only: any other body type is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
  // Callers can correlate their request with our logs (which carry reqId).
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onRequest', authHook(deps.apiKeys, deps.publicEndpoints));
  app.decorate('routeCatalog', registerOpenApi(app));

  // One writer for every push and webhook of this server: requests arriving together commit together.
  const ingest = new GroupCommitter(deps.pool, deps.ingestGroup);
  app.register(async (scope) => {
    // Registered first so its onRoute hook sees every route below.
    await registerIngestRateLimit(scope, deps.ingestRatePerSecond);
    healthRoutes(scope, deps);
    metricsRoutes(scope, deps);
    await docsRoutes(scope, deps);
    dashboardRoutes(scope);
    eventsRoutes(scope, { ...deps, ingest });
    ticketRoutes(scope, deps);
    statusRoutes(scope, deps);
    deadLetterRoutes(scope, deps);
    deliveryRoutes(scope, deps);
    routesRoutes(scope, deps);
    // Signed by HMAC, not by an API key (auth: false in its schemas).
    webhookRoutes(scope, { ...deps, ingest });
    processRoutes(scope, deps);
    runRoutes(scope, deps);
    plannerLogRoutes(scope, deps);
    plannerSettingsRoutes(scope, deps);
  });
  return app;
}
