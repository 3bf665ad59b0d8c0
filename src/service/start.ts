import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../api/server';
import { PeerNotifier } from '../capture/peer-notifier';
import { AlertNotifier } from '../callout/alerts';
import type { RouteCallerHooks } from '../callout/route-caller';
import { resolveApiKeys } from '../config/api-keys';
import type { SluiceConfig } from '../config/load';
import { CaptureFanOut, fanOutOptions } from '../capture/fan-out';
import { createDrain, type Drain } from '../drain/drain';
import { LaneKeeper } from '../drain/lane-keeper';
import { Leader } from '../drain/leader';
import { whileLeading } from '../drain/leader-duties';
import { Pruner } from '../drain/pruner';
import { Waker } from '../drain/waker';
import { component, Lifecycle } from '../lib/lifecycle';
import { createLogger, type Logger } from '../lib/logger';
import { createServiceMetrics } from '../metrics/registry';
import { deadLetterLog, observe, observers } from '../drain/observer';
import { setBackfillTables } from '../planner/backfill/access';
import { loadHandlerModules } from '../planner/load-handlers';
import { Planner } from '../planner/planner';
import { autoDisablePass, checkEveryMs } from '../routes/auto-disable';
import { ConfigReloader, type ReloadResult } from '../routes/config-reload';
import { RouteRegistry } from '../routes/registry';
import { ProcessRegistry } from '../planner/registry';
import { createKafka } from '../relay/kafka-client';
import { OutboxRelay, RELAY_BATCH_SIZE } from '../relay/outbox-relay';
import { breakerAlerts, drainAlerts } from './alert-wiring';
import { databaseServer, kafkaBrokers } from './infra';
import { buildStatus } from './status';
import { Store } from './store';

export interface RunningService {
  url: string;
  port: number;
  apiKeys: string[];
  apiKeyGenerated: boolean;
  apiKeyFile?: string;
  databaseUrl: string;
  kafkaBrokers: string[] | null;
  instance: string;
  app: FastifyInstance;
  drain: Drain;
  relay: OutboxRelay | null;
  /** Operational alerts (config `alerts`): `notify(kind, details)`; breaker openings are wired here. */
  alerts: AlertNotifier;
  planner: Planner;
  /** The live routes (seeded from the route file, changed through /v1/routes, shared in Postgres). */
  routes: RouteRegistry;
  /** Re-reads the route file and webhook secrets (SIGHUP, file change); a bad file keeps the running config. */
  reload(why: string): Promise<ReloadResult>;
  logger: Logger;
  /** Stops every component in reverse order of start (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts everything one Sluice process runs, as a list of components started in order and stopped in
 * reverse: database server, pools (+ migrations), Kafka broker, routes (registry + callers), alerts, LISTEN, leader lease, capture
 * fan-out, drain (and its auto-disable duty), relay, pruner, planner, the HTTP API, and the route file watch last (first to stop). Every process can
 * lead; the others are standbys. Pass `lifecycle` to stop a start in progress (a signal during start).
 */
export async function startService(
  config: SluiceConfig,
  logger = createLogger(config.env.LOG_LEVEL),
  lifecycle = new Lifecycle(logger.child({ part: 'lifecycle' })),
): Promise<RunningService> {
  try {
    return await startComponents(config, logger, lifecycle);
  } catch (err) {
    await lifecycle.stop();
    throw err;
  }
}

async function startComponents(
  config: SluiceConfig,
  logger: Logger,
  life: Lifecycle,
): Promise<RunningService> {
  const env = config.env;
  const instance = env.SLUICE_INSTANCE ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const { keys, generated, file: apiKeyFile } = resolveApiKeys(env.SLUICE_API_KEYS, env.SLUICE_HOME);

  const db = await life.start('postgres', databaseServer(env, logger));
  const store = await life.start('pools', new Store(db.url, logger, env.SLUICE_STATEMENT_TIMEOUT_MS));
  const pool = store.pool;
  const kafka = await life.start('kafka-broker', kafkaBrokers(env, logger));

  const calloutHooks: RouteCallerHooks = {};
  const registry = new RouteRegistry(pool, {
    // No route file and no routes: the stored routes (API-made, or another instance's file) are left alone.
    seed: config.configPath || config.routes.length ? config.routes : null,
    pollMs: env.SLUICE_POLL_MS,
    log: logger.child({ part: 'routes' }),
    calloutLog: logger.child({ part: 'callout' }),
    hooks: calloutHooks,
  });
  await life.start('routes', registry);
  const callers = registry.callers;
  const alerts = new AlertNotifier(
    config.alerts,
    config.alerts ? callers.get(config.alerts.route) : undefined,
    logger.child({ part: 'alerts' }),
  );
  calloutHooks.onBreakerChange = breakerAlerts(alerts);
  await life.start(
    'alerts',
    component(
      () => undefined,
      () => alerts.flush(),
    ),
  );

  const leader = new Leader(pool, 'drain', instance, env.SLUICE_LEADER_TTL_MS);
  const lanes = new LaneKeeper(
    store.asyncPool,
    {
      holder: instance,
      ttlMs: env.SLUICE_LEADER_TTL_MS,
      lanes: env.SLUICE_LANES,
      info: { host: hostname(), pid: process.pid, port: env.PORT },
    },
    logger.child({ part: 'lanes' }),
  );
  // Each route's concurrency and rate limit are split among instances by the lanes they hold.
  calloutHooks.share = () => Math.max(lanes.share, lanes.minShare);
  const drain = createDrain({
    pool: store.asyncPool,
    leader,
    lanes,
    callers,
    closedRoutes: (now) => registry.closedRoutes(now),
    options: {
      batchSize: env.SLUICE_BATCH_SIZE,
      pollMs: env.SLUICE_POLL_MS,
      rowLeaseMs: env.SLUICE_ROW_LEASE_MS,
      maxInFlight: env.SLUICE_MAX_IN_FLIGHT,
      warnAfterMs: env.SLUICE_BATCH_WARN_AFTER_MS,
      stopAfterMs: env.SLUICE_BATCH_STOP_AFTER_MS,
      shutdownGraceMs: env.SLUICE_SHUTDOWN_GRACE_MS,
      stallAfterMs: env.SLUICE_STALL_AFTER_MS,
      attemptLog: env.SLUICE_ATTEMPT_LOG === 'on',
    },
    log: logger.child({ part: 'drain' }),
  });
  drainAlerts(drain, alerts);
  const pruner = new Pruner(
    pool,
    () => leader.isLeader,
    {
      retentionMs: env.SLUICE_RETENTION_DAYS * 86_400_000,
      attemptRetentionMs: env.SLUICE_ATTEMPT_RETENTION,
      intervalMs: env.SLUICE_PRUNE_INTERVAL_MS,
    },
    logger.child({ part: 'prune' }),
  );
  const relay = kafka.brokers
    ? new OutboxRelay(
        pool,
        createKafka(kafka.brokers, `sluice-${instance}`, logger.child({ part: 'kafka' })),
        () => leader.isLeader,
        { topic: env.KAFKA_TOPIC, batchSize: RELAY_BATCH_SIZE, pollMs: env.SLUICE_POLL_MS },
        logger.child({ part: 'relay' }),
      )
    : null;
  // Trigger captures become events here, on a connection of their own (see Store.capturePool).
  const fanOut = new CaptureFanOut(
    store.capturePool,
    fanOutOptions(env.SLUICE_POLL_MS),
    logger.child({ part: 'capture' }),
  );
  const wakeAll = () => {
    drain.wake();
    relay?.wake();
  };
  fanOut.onFannedOut = wakeAll;
  leader.on('elected', () => relay?.wake());
  const waker = new Waker(
    db.url,
    () => {
      fanOut.wake();
      wakeAll();
    },
    logger.child({ part: 'listen' }),
  );
  // The API enqueues without an in-transaction NOTIFY; this wakes the other processes after commit.
  const peers = new PeerNotifier(pool, logger.child({ part: 'notify' }));

  await life.start('listen', waker);
  await life.start('leader', leader);
  await life.start('capture-fan-out', fanOut);
  await life.start('drain', drain);
  const autoDisableLog = logger.child({ part: 'auto-disable' });
  let stopAutoDisable = () => {};
  await life.start(
    'auto-disable',
    component(
      () =>
        void (stopAutoDisable = whileLeading(
          leader,
          'auto-disable',
          () => autoDisablePass(pool, registry.routes, alerts, autoDisableLog),
          () => checkEveryMs(registry.routes.values()),
          autoDisableLog,
        )),
      () => stopAutoDisable(),
    ),
  );
  if (relay) await life.start('relay', relay);
  await life.start('pruner', pruner);
  loadHandlerModules(env.SLUICE_HANDLERS);
  setBackfillTables(config.backfillTables ?? []);
  const planner = new Planner(
    pool,
    {
      instance,
      settings: {
        maxActive: env.SLUICE_MAX_ACTIVE,
        reserveHorizonMinutes: env.SLUICE_RESERVE_HORIZON_MINUTES,
        defaultRunMinutes: env.SLUICE_DEFAULT_RUN_MINUTES,
      },
      intervalMs: env.SLUICE_PLANNER_TICK_MS,
      staleMs: env.SLUICE_RUN_STALE_MS,
      // Alive runs must be marked well within the stale limit.
      heartbeatMs: Math.min(5000, Math.floor(env.SLUICE_RUN_STALE_MS / 3)),
      databaseUrl: db.url,
    },
    logger.child({ part: 'planner' }),
  );
  await life.start('planner', planner);

  const status = () =>
    buildStatus({
      pool,
      instance,
      drain,
      pruner,
      relay,
      fanOut,
      kafkaBrokers: kafka.brokers,
      callers,
      routes: registry,
      planner,
    });
  const metrics = createServiceMetrics(status);
  observe(drain, observers(metrics.drainObserver, deadLetterLog(logger.child({ part: 'drain' }))));
  registry.onCallout = metrics.observeCallout;
  const app = buildServer({
    pool,
    apiKeys: keys,
    webhookSecrets: config.webhookSecrets,
    webhookBodyLimit: env.SLUICE_WEBHOOK_BODY_LIMIT,
    logger: logger.child({ part: 'api' }),
    status,
    onAccepted: () => {
      wakeAll();
      peers.poke();
    },
    metrics: metrics.registry,
    publicEndpoints: env.SLUICE_PUBLIC_ENDPOINTS,
    drainStalled: () => drain.stats.stalled,
    ingestRatePerSecond: env.SLUICE_INGEST_RATE_LIMIT,
    ingestGroup: { maxRequests: env.SLUICE_INGEST_GROUP_MAX, inFlight: env.SLUICE_INGEST_GROUPS_IN_FLIGHT },
    routes: registry,
    planner: {
      registry: new ProcessRegistry(pool, planner.clock, env.SLUICE_TIME_ZONE),
      wake: () => planner.wake(),
    },
  });
  // Last to start, first to stop: no request arrives before the parts it needs, nor after they stopped.
  await life.start(
    'api',
    component(
      async () => void (await app.listen({ port: env.PORT, host: env.HOST })),
      () => app.close(),
    ),
  );
  const reloader = new ConfigReloader(
    config.configPath,
    env,
    registry,
    config.webhookSecrets,
    logger.child({ part: 'config' }),
    env.SLUICE_CONFIG_WATCH_MS,
  );
  await life.start('config-watch', reloader);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKeys: keys,
    apiKeyGenerated: generated,
    apiKeyFile,
    databaseUrl: db.url,
    kafkaBrokers: kafka.brokers,
    instance,
    app,
    drain,
    relay,
    alerts,
    planner,
    routes: registry,
    reload: (why) => reloader.reload(why),
    logger,
    stop: () => life.stop(),
  };
}
