import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Pool } from 'pg';
import { buildServer } from '../api/server';
import { PeerNotifier } from '../capture/peer-notifier';
import { AlertNotifier } from '../callout/alerts';
import { buildCallers } from '../callout/build-callers';
import type { RouteCallerHooks } from '../callout/route-caller';
import { resolveApiKeys } from '../config/api-keys';
import type { SluiceConfig } from '../config/load';
import { createDataSource } from '../db/data-source';
import { migrate } from '../db/migrate';
import { poolOf } from '../db/pool';
import { syncRoutes } from '../db/queue/sync-routes';
import { CaptureFanOut, fanOutOptions } from '../capture/fan-out';
import { logCaptureUpgrade, upgradeCaptures } from '../capture/upgrade';
import { DrainConsumer } from '../drain/consumer';
import { Leader } from '../drain/leader';
import { Pruner } from '../drain/pruner';
import { Waker } from '../drain/waker';
import { createLogger, type Logger } from '../lib/logger';
import { createServiceMetrics } from '../metrics/registry';
import { deadLetterLog, observers } from '../drain/observer';
import { setBackfillTables } from '../planner/backfill/access';
import { loadHandlerModules } from '../planner/load-handlers';
import { Planner } from '../planner/planner';
import { ProcessRegistry } from '../planner/registry';
import { createKafka } from '../relay/kafka-client';
import { OutboxRelay, RELAY_BATCH_SIZE } from '../relay/outbox-relay';
import { resolveDatabase, resolveKafka } from './infra';
import { buildStatus } from './status';

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
  drain: DrainConsumer;
  relay: OutboxRelay | null;
  /** Operational alerts (config `alerts`): `notify(kind, details)`; breaker openings are wired here. */
  alerts: AlertNotifier;
  planner: Planner;
  logger: Logger;
  stop(): Promise<void>;
}

/**
 * Starts everything one Sluice process runs: database (+ migrations), Kafka relay, the leader lease,
 * the drain consumer and the HTTP API. Every process can lead; the others are standbys.
 */
export async function startService(
  config: SluiceConfig,
  logger = createLogger(config.env.LOG_LEVEL),
): Promise<RunningService> {
  const env = config.env;
  const instance = env.SLUICE_INSTANCE ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const calloutHooks: RouteCallerHooks = {};
  const callers = buildCallers(config.routes, logger.child({ part: 'callout' }), calloutHooks);
  const alerts = new AlertNotifier(
    config.alerts,
    config.alerts ? callers.get(config.alerts.route) : undefined,
    logger.child({ part: 'alerts' }),
  );
  calloutHooks.onBreakerChange = (route, state, st) => {
    if (state !== 'open') return;
    alerts.notify('breaker-open', {
      route,
      summary: `route "${route}" stopped calling its endpoint; its rows are deferred`,
      until: st.nextAttemptAt ? new Date(st.nextAttemptAt).toISOString() : null,
      failures: st.failures,
      calls: st.calls,
    });
  };
  const routes = new Map(config.routes.map((r) => [r.name, r]));
  const { keys, generated, file: apiKeyFile } = resolveApiKeys(env.SLUICE_API_KEYS, env.SLUICE_HOME);

  const db = await resolveDatabase(env, logger, true);
  const ds = createDataSource({ url: db.url, poolSize: 12 });
  await ds.initialize();
  const applied = await migrate(ds);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const pool = poolOf(ds);
  // An idle client that loses its server must not crash the process: the pool drops it and reconnects.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres pool client error'));
  logCaptureUpgrade(await upgradeCaptures(pool), logger);
  await syncRoutes(pool, config.routes);

  const kafkaInfo = await resolveKafka(env, logger);
  const leader = new Leader(pool, 'drain', instance, env.SLUICE_LEADER_TTL_MS);
  // The drain's own writes (claims, settles, heartbeats) commit without waiting for the WAL flush: a
  // write lost in a Postgres crash only means a row is delivered again, which at-least-once allows.
  // Pushes (what a 202 promises) and the leader lease stay on the main, synchronous pool.
  const drainPool = new Pool({
    connectionString: db.url,
    max: 5,
    application_name: 'sluice-drain',
    options: '-c synchronous_commit=off',
  });
  drainPool.on('error', (err) => logger.warn({ err: err.message }, 'postgres drain client error'));
  const drain = new DrainConsumer(
    drainPool,
    leader,
    callers,
    routes,
    {
      batchSize: env.SLUICE_BATCH_SIZE,
      pollMs: env.SLUICE_POLL_MS,
      rowLeaseMs: env.SLUICE_ROW_LEASE_MS,
      maxInFlight: env.SLUICE_MAX_IN_FLIGHT,
      warnAfterMs: env.SLUICE_BATCH_WARN_AFTER_MS,
      stopAfterMs: env.SLUICE_BATCH_STOP_AFTER_MS,
      shutdownGraceMs: env.SLUICE_SHUTDOWN_GRACE_MS,
    },
    logger.child({ part: 'drain' }),
  );
  const pruner = new Pruner(
    pool,
    () => leader.isLeader,
    { retentionMs: env.SLUICE_RETENTION_DAYS * 86_400_000, intervalMs: env.SLUICE_PRUNE_INTERVAL_MS },
    logger.child({ part: 'prune' }),
  );
  const relay = kafkaInfo.brokers
    ? new OutboxRelay(
        pool,
        createKafka(kafkaInfo.brokers, `sluice-${instance}`, logger.child({ part: 'kafka' })),
        () => leader.isLeader,
        { topic: env.KAFKA_TOPIC, batchSize: RELAY_BATCH_SIZE, pollMs: env.SLUICE_POLL_MS },
        logger.child({ part: 'relay' }),
      )
    : null;
  // Trigger captures become events here, on a connection of their own (waiting behind the drain's claims
  // for a pooled one delayed every change). Asynchronous commit: the journal rows it consumes go in the
  // same transaction, so a commit lost in a crash is simply redone.
  const capturePool = new Pool({
    connectionString: db.url,
    max: 1,
    application_name: 'sluice-capture',
    options: '-c synchronous_commit=off',
  });
  capturePool.on('error', (err) => logger.warn({ err: err.message }, 'postgres capture client error'));
  const fanOut = new CaptureFanOut(
    capturePool,
    fanOutOptions(env.SLUICE_POLL_MS),
    logger.child({ part: 'capture' }),
  );
  const wakeAll = () => {
    drain.wake();
    relay?.wake();
  };
  fanOut.onFannedOut = wakeAll;
  leader.on('elected', () => relay?.wake());
  drain.on('deadLettered', (d) =>
    alerts.notify('dead-letter', {
      route: d.route,
      summary: `an event of route "${d.route}" became a dead letter after ${d.attempts} attempt(s)`,
      eventId: d.eventId,
      status: d.status,
      error: d.error.slice(0, 300),
    }),
  );
  drain.on('alert', (a) =>
    alerts.notify('slow-batch', {
      summary:
        a.kind === 'batch-slow'
          ? `batch ${a.batch.id} (${a.batch.size} rows) running for ${Math.round(a.batch.ageMs / 1000)} s; ${a.batch.finished} callouts finished`
          : `batch ${a.batch.id} stopped after ${Math.round(a.stopAfterMs / 1000)} s; ${a.released} rows handed back to the queue`,
      batch: a.batch.id,
    }),
  );
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
  await waker.start();
  leader.start();
  fanOut.start();
  drain.start();
  relay?.start();
  pruner.start();
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
  await planner.start();

  const statusSources = {
    pool,
    instance,
    drain,
    pruner,
    relay,
    fanOut,
    kafkaBrokers: kafkaInfo.brokers,
    callers,
    planner,
  };
  const status = () => buildStatus(statusSources);
  const metrics = createServiceMetrics(status);
  drain.observer = observers(metrics.drainObserver, deadLetterLog(logger.child({ part: 'drain' })));
  for (const c of callers.values()) c.onCallout = metrics.observeCallout;
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
    ingestRatePerSecond: env.SLUICE_INGEST_RATE_LIMIT,
    planner: {
      registry: new ProcessRegistry(pool, planner.clock, env.SLUICE_TIME_ZONE),
      wake: () => planner.wake(),
    },
  });
  await app.listen({ port: env.PORT, host: env.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : env.PORT;

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await app.close();
      await pruner.stop();
      await planner.stop();
      await fanOut.stop();
      await drain.stop();
      await relay?.stop();
      await leader.stop();
      await waker.stop();
      await alerts.flush();
      await Promise.all([...callers.values()].map((c) => c.shutdown()));
      await drainPool.end().catch(() => undefined);
      await capturePool.end().catch(() => undefined);
      await ds.destroy();
      await kafkaInfo.broker?.stop();
      await db.stop();
    })());

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKeys: keys,
    apiKeyGenerated: generated,
    apiKeyFile,
    databaseUrl: db.url,
    kafkaBrokers: kafkaInfo.brokers,
    instance,
    app,
    drain,
    relay,
    alerts,
    planner,
    logger,
    stop,
  };
}
