import { resolve } from 'node:path';
import { loadConfig } from '../config/load';
import { Lifecycle, StoppedDuringStart } from '../lib/lifecycle';
import { createLogger } from '../lib/logger';
import { logOutput } from '../lib/log-output';
import { startService, type RunningService } from '../service/start';
import { bannerLines } from './banner';

/**
 * `sluice start`: the service in the foreground. Sluice owns SIGINT and SIGTERM from before its first
 * component starts, so a signal at any moment stops the components in reverse order (the broker and
 * the embedded Postgres last) and only then ends the process. A second signal while stopping is logged
 * and ignored: `npm start` forwards the terminal's Ctrl-C, so one key press arrives twice. SIGHUP
 * reloads the route file and webhook secrets (validated first: a bad file keeps the running config).
 */
export async function serve(opts: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  const env = config.env;
  const out = await logOutput(env.LOG_FORMAT);
  const logger = createLogger(env.LOG_LEVEL, 'sluice', out.stream);
  const life = new Lifecycle(logger.child({ part: 'lifecycle' }));

  let stopping: string | null = null;
  const stop = (why: string, code: number) => {
    if (stopping) return logger.info({ signal: why }, `already stopping (${stopping})`);
    stopping = why;
    logger.info({ signal: why }, 'stopping');
    void life.stop().then(() => {
      logger.info({}, 'stopped');
      process.exit(code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  // The daemon convention: reload the config. (Node's default would end the process and orphan the
  // broker and Postgres; a closed terminal's own stop comes from the npm parent check below or SIGTERM.)
  let reload: ((why: string) => Promise<unknown>) | null = null;
  process.on('SIGHUP', () => {
    if (stopping) return;
    if (!reload)
      return logger.warn({ signal: 'SIGHUP' }, 'still starting: SIGHUP ignored (nothing to reload yet)');
    void reload('SIGHUP');
  });
  // Run by an npm script: npm forwards SIGINT/SIGTERM (the script execs node), but an npm killed with
  // SIGKILL forwards nothing, so the service also stops once the npm process that started it is gone.
  if (process.env.npm_lifecycle_event) {
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && stop('npm exited', 0), 1_000).unref();
  }
  // A crash still stops the broker and the embedded Postgres this process started.
  const crash = (err: unknown) => {
    logger.fatal({ err }, 'unexpected error; stopping');
    stop('crash', 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  let svc: RunningService;
  try {
    svc = await startService(config, logger, life);
  } catch (err) {
    if (err instanceof StoppedDuringStart) return; // the signal handler ends the process
    logger.error({ err: (err as Error).message }, 'start failed; stopped what had started');
    process.exitCode = 1;
    return;
  }
  reload = svc.reload;
  await out.settled(300, 5_000);
  if (stopping) return;
  const keySource = env.SLUICE_API_KEYS.length ? 'env' : svc.apiKeyGenerated ? 'generated' : 'file';
  if (opts.json) {
    console.log(
      JSON.stringify({
        url: svc.url,
        pid: process.pid,
        instance: svc.instance,
        kafka: svc.kafkaBrokers,
        apiKeySource: keySource,
        ...(keySource === 'generated' && { apiKey: svc.apiKeys[0] }),
        ...(svc.apiKeyFile && { apiKeyFile: svc.apiKeyFile }),
        routes: config.routes.length,
      }),
    );
    return;
  }
  const lines = bannerLines({
    url: svc.url,
    pid: process.pid,
    instance: svc.instance,
    home: resolve(env.SLUICE_HOME),
    database: { url: svc.databaseUrl, embedded: !env.DATABASE_URL },
    kafka: { brokers: svc.kafkaBrokers, local: env.KAFKA_BROKERS.length === 0, topic: env.KAFKA_TOPIC },
    apiKey: { source: keySource, key: svc.apiKeys[0], file: svc.apiKeyFile },
    routes: { count: config.routes.length, configPath: config.configPath },
    publicEndpoints: env.SLUICE_PUBLIC_ENDPOINTS,
    color: out.pretty && !!process.stdout.isTTY,
  });
  console.log(lines.join('\n'));
}
