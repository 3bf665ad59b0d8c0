import type { Command } from 'commander';
import { relayLag } from '../db/outbox/lag';
import { poolOf } from '../db/pool';
import { queueCounts } from '../db/queue/counts';
import { output, withDb } from './util';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('queue depth by state and Kafka relay lag, read from the database')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (ds) => {
        const pool = poolOf(ds);
        const [queue, lag] = await Promise.all([queueCounts(pool), relayLag(pool)]);
        output(opts.json, { queue, relay: lag }, () =>
          [
            `pending ${queue.byState.pending}  running ${queue.byState.running}  done ${queue.byState.done}  dead ${queue.byState.dead}`,
            `oldest pending: ${queue.oldestPendingAgeMs === null ? '-' : `${Math.round(queue.oldestPendingAgeMs)} ms`}`,
            `relay: ${lag.unpublished} unpublished`,
          ].join('\n'),
        );
      });
    });
}
