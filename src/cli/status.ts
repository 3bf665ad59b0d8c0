import type { Command } from 'commander';
import { captureBacklog } from '../db/capture/backlog';
import { relayLag } from '../db/outbox/lag';
import { poolOf } from '../db/pool';
import { queueCounts } from '../db/queue/counts';
import { activeBackfills } from '../planner/backfill/checkpoint';
import { countActive } from '../planner/runs';
import { readSettings } from '../planner/settings';
import { output, withDb } from './util';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('queue depth by state and Kafka relay lag, read from the database')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withDb(async (ds) => {
        const pool = poolOf(ds);
        const [queue, lag, capture, active, backfills, settings] = await Promise.all([
          queueCounts(pool),
          relayLag(pool),
          captureBacklog(pool),
          countActive(pool),
          activeBackfills(pool),
          readSettings(pool),
        ]);
        const planner = { active, maxActive: settings.maxActive, backfills };
        output(opts.json, { queue, capture, relay: lag, planner }, () =>
          [
            `pending ${queue.byState.pending}  running ${queue.byState.running}  done ${queue.byState.done}  dead ${queue.byState.dead}`,
            `oldest pending: ${queue.oldestPendingAgeMs === null ? '-' : `${Math.round(queue.oldestPendingAgeMs)} ms`}`,
            `capture: ${capture.changes} change(s) not yet fanned out`,
            `relay: ${lag.unpublished} unpublished`,
            `planner: ${active} of ${settings.maxActive} slot(s) active`,
            ...backfills.map(
              (b) =>
                `backfill ${b.table} -> ${b.route}: ${b.status} ${b.rowsDone}/${b.rowsTotal ?? '?'} rows (${b.percent ?? '?'}%), cursor ${b.cursor ?? '-'}`,
            ),
          ].join('\n'),
        );
      });
    });
}
