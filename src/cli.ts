// The `sluice` command. Each subcommand lives in src/cli/<name>.ts and registers itself here. Commands
// import what they need when they run, so `sluice --help` loads commander and nothing else.
import { Command } from 'commander';
import { sluiceSchema } from './db/schema-name';
import { registerCapture } from './cli/capture';
import { registerDeliveries } from './cli/deliveries';
import { registerDlq } from './cli/dlq';
import { registerBackfill } from './cli/backfill';
import { registerMigrate } from './cli/migrate';
import { registerProcesses } from './cli/processes';
import { registerPush } from './cli/push';
import { registerRoutes } from './cli/routes';
import { registerStart } from './cli/start';
import { registerStatus } from './cli/status';
import { fail } from './cli/util';

export const program = new Command('sluice')
  .description('Change-data-capture event queue: capture, queue, relay to Kafka, deliver over HTTP')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerStart(program);
registerMigrate(program);
registerStatus(program);
registerPush(program);
registerCapture(program);
registerRoutes(program);
registerDeliveries(program);
registerDlq(program);
registerBackfill(program);
registerProcesses(program);

export function main(argv = process.argv): void {
  program.parseAsync(argv).catch((err) => {
    if ((err as Error).name === 'ConfigError') fail((err as Error).message);
    // A database without Sluice's tables in its schema (never migrated, or an older install not yet moved).
    if ((err as { code?: string }).code === '42P01')
      fail(
        `this database has no Sluice tables in schema "${sluiceSchema()}" (${(err as Error).message}): run \`sluice migrate\` or \`sluice start\` against it first`,
        1,
      );
    console.error(`sluice: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
}

// `tsx src/cli.ts ...` runs it directly; bin/sluice.js calls main(); tests import `program` without running it.
if (typeof require !== 'undefined' && require.main === module) main();
