import { Command, InvalidArgumentError } from 'commander';
import { PushBodySchema, pushIds } from './capture/push';
import { ConfigError, loadConfig } from './config/load';
import { OPS } from './config/route-schema';
import { createDataSource } from './db/data-source';
import { migrate } from './db/migrate';
import { poolOf } from './db/pool';
import { queueCounts } from './db/queue/counts';
import { relayLag } from './db/outbox/lag';
import { createLogger } from './lib/logger';
import { resolveDatabase } from './service/infra';
import { startService } from './service/start';

/** Exits with a message and status 2 for anything the user got wrong. */
function fail(message: string, code = 2): never {
  console.error(`sluice: ${message}`);
  process.exit(code);
}

async function withDb<T>(fn: (ds: ReturnType<typeof createDataSource>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await resolveDatabase(config.env, createLogger('warn'), false);
  const ds = createDataSource({ url: db.url, poolSize: 2, applicationName: 'sluice-cli' });
  try {
    await ds.initialize();
  } catch (err) {
    fail(
      `cannot connect to the database (${(err as Error).message}); set DATABASE_URL or start sluice first`,
      1,
    );
  }
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

const program = new Command('sluice')
  .description('Change-data-capture event queue: capture, queue, relay to Kafka, deliver over HTTP')
  .showHelpAfterError();

program
  .command('start')
  .description(
    'run the service: API, drain consumer, Kafka relay (embedded Postgres / local Kafka when unset)',
  )
  .action(async () => {
    const config = loadConfig();
    const svc = await startService(config);
    const key = svc.apiKeys[0];
    console.log(`\nSluice is up on ${svc.url}  (instance ${svc.instance})`);
    console.log(`  database: ${svc.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
    console.log(`  kafka:    ${svc.kafkaBrokers ? svc.kafkaBrokers.join(',') : 'OFF (no brokers)'}`);
    console.log(
      `  API key:  ${key}${svc.apiKeyGenerated ? '  (generated, stored in ${svc.apiKeyFile})' : ''}`,
    );
    console.log(
      `\nPush a change:\n  curl -s -X POST ${svc.url}/v1/events -H 'authorization: Bearer ${key}' \\`,
    );
    console.log(
      `    -H 'content-type: application/json' -d '{"entity":"account","op":"update","ids":["42"]}'\n`,
    );
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

program
  .command('migrate')
  .description('apply pending database migrations (safe to run from several processes at once)')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    await withDb(async (ds) => {
      const applied = await migrate(ds);
      if (opts.json) console.log(JSON.stringify({ applied }));
      else console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    });
  });

program
  .command('status')
  .description('queue depth by state and Kafka relay lag, read from the database')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    await withDb(async (ds) => {
      const pool = poolOf(ds);
      const [queue, lag] = await Promise.all([queueCounts(pool), relayLag(pool)]);
      if (opts.json) return console.log(JSON.stringify({ queue, relay: lag }));
      console.log(
        `pending ${queue.byState.pending}  running ${queue.byState.running}  done ${queue.byState.done}  dead ${queue.byState.dead}`,
      );
      console.log(
        `oldest pending: ${queue.oldestPendingAgeMs === null ? '-' : `${Math.round(queue.oldestPendingAgeMs)} ms`}`,
      );
      console.log(`relay: ${lag.unpublished} unpublished`);
    });
  });

const parseOp = (v: string) => {
  if (!(OPS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${OPS.join(', ')}`);
  return v;
};

program
  .command('push')
  .description('enqueue changes for record ids (comma list, or one per line on stdin with --stdin)')
  .requiredOption('--entity <name>', 'entity name, e.g. account')
  .requiredOption('--op <op>', `one of ${OPS.join(', ')}`, parseOp)
  .option('--ids <list>', 'comma-separated record ids')
  .option('--stdin', 'read ids from standard input, one per line')
  .option('--payload <json>', 'JSON payload attached to every id')
  .option('--json', 'machine-readable output')
  .action(
    async (opts: {
      entity: string;
      op: string;
      ids?: string;
      stdin?: boolean;
      payload?: string;
      json?: boolean;
    }) => {
      let ids = (opts.ids ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (opts.stdin) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        ids = ids.concat(
          Buffer.concat(chunks)
            .toString('utf8')
            .split(/\r?\n/)
            .map((s) => s.trim())
            .filter(Boolean),
        );
      }
      let payload: unknown;
      if (opts.payload !== undefined) {
        try {
          payload = JSON.parse(opts.payload);
        } catch {
          fail('--payload is not valid JSON');
        }
      }
      const parsed = PushBodySchema.safeParse({
        entity: opts.entity,
        op: opts.op,
        ids,
        ...(payload !== undefined && { payload }),
      });
      if (!parsed.success)
        fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
      await withDb(async (ds) => {
        const result = await pushIds(poolOf(ds), parsed.data);
        if (opts.json) console.log(JSON.stringify(result));
        else console.log(`accepted ${result.accepted} change(s), ticket ${result.ticket}`);
      });
    },
  );

program.parseAsync(process.argv).catch((err) => {
  if (err instanceof ConfigError) fail(err.message);
  console.error(`sluice: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
