import type { Command } from 'commander';
import { loadConfig } from '../config/load';
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
      const svc = await startService(loadConfig());
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
      const shutdown = (signal: string) => {
        svc.logger.info({ signal }, 'shutting down');
        svc
          .stop()
          .then(() => process.exit(0))
          .catch((err) => {
            svc.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          });
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
