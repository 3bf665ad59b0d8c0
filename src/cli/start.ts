import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { Lifecycle, StoppedDuringStart } from '../lib/lifecycle';
import { createLogger } from '../lib/logger';
import { maskUrl } from '../lib/mask-url';
import { startService, type RunningService } from '../service/start';

function printBanner(svc: RunningService, key: string, database: string): void {
  console.log(`\nSluice is up on ${svc.url}  (instance ${svc.instance})`);
  console.log(`  database: ${database}`);
  console.log(`  kafka:    ${svc.kafkaBrokers ? svc.kafkaBrokers.join(',') : 'OFF (no brokers)'}`);
  console.log(`  API key:  ${key}${svc.apiKeyGenerated ? `  (generated, stored in ${svc.apiKeyFile})` : ''}`);
  console.log(`  dashboard: ${svc.url}/   metrics: ${svc.url}/metrics   API docs: ${svc.url}/docs`);
  console.log(
    `\nPush a change:\n  curl -s -X POST ${svc.url}/v1/events -H 'authorization: Bearer ${key}' \\`,
  );
  console.log(
    `    -H 'content-type: application/json' -d '{"entity":"account","op":"update","ids":["42"]}'\n`,
  );
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run the service: API, drain consumer, Kafka relay (embedded Postgres / local Kafka when unset)',
    )
    .option('--json', 'print the startup summary as one JSON line instead of the banner')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const logger = createLogger(config.env.LOG_LEVEL);
      const life = new Lifecycle(logger.child({ part: 'lifecycle' }));
      // Sluice owns SIGINT and SIGTERM from before the first component starts: a signal during start
      // stops what already started (the broker, the embedded Postgres) instead of orphaning it.
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return logger.info({ signal }, 'already stopping');
        stopping = true;
        logger.info({ signal }, 'stopping');
        life
          .stop()
          .then(() => {
            logger.info({}, 'stopped');
            process.exit(0);
          })
          .catch((err) => {
            logger.error({ err }, 'stop failed');
            process.exit(1);
          });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      let svc: RunningService;
      try {
        svc = await startService(config, logger, life);
      } catch (err) {
        // The signal handler finishes the stop and exits.
        if (err instanceof StoppedDuringStart) return;
        throw err;
      }
      const key = svc.apiKeys[0];
      const database = maskUrl(svc.databaseUrl);
      if (opts.json) {
        const summary = {
          url: svc.url,
          instance: svc.instance,
          database,
          kafka: svc.kafkaBrokers,
          apiKey: key,
          apiKeyGenerated: svc.apiKeyGenerated,
        };
        console.log(JSON.stringify(summary));
      } else printBanner(svc, key, database);
    });
}
