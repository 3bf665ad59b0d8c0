import type { Command } from 'commander';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run the service: API, drain consumer, Kafka relay (embedded Postgres / local Kafka when unset); Ctrl-C or SIGTERM stops it',
    )
    .option('--json', 'print the startup summary as one JSON line instead of the banner')
    .action(async (opts: { json?: boolean }) => {
      const { serve } = await import('./serve.js');
      await serve(opts);
    });
}
