import type { Command } from 'commander';
import { output, withPool } from './util';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('queue depth by state and Kafka relay lag, read from the database')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const [
        { captureBacklog },
        { relayLag },
        { queueCounts },
        { activeBackfills },
        { countActive },
        { readSettings },
      ] = await Promise.all([
        import('../db/capture/backlog.js'),
        import('../db/outbox/lag.js'),
        import('../db/queue/counts.js'),
        import('../planner/backfill/checkpoint.js'),
        import('../planner/runs.js'),
        import('../planner/settings.js'),
      ]);
      await withPool(async (pool) => {
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
