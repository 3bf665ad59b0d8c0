import type { Command } from 'commander';
import { output, withPool } from './util';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'queue depth by state, Kafka relay lag and the running instances with their lanes, read from the database',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const [
        { captureBacklog },
        { relayLag },
        { queueCounts },
        { activeBackfills },
        { countActive },
        { readSettings },
        { lanesStatus },
        { listStoredRoutes },
      ] = await Promise.all([
        import('../db/capture/backlog.js'),
        import('../db/outbox/lag.js'),
        import('../db/queue/counts.js'),
        import('../planner/backfill/checkpoint.js'),
        import('../planner/runs.js'),
        import('../planner/settings.js'),
        import('../db/lease/lane-sql.js'),
        import('../db/routes/read-routes.js'),
      ]);
      await withPool(async (pool) => {
        const [queue, lag, capture, active, backfills, settings, lanes, routes] = await Promise.all([
          queueCounts(pool),
          relayLag(pool),
          captureBacklog(pool),
          countActive(pool),
          activeBackfills(pool),
          readSettings(pool),
          lanesStatus(pool),
          listStoredRoutes(pool),
        ]);
        const planner = { active, maxActive: settings.maxActive, backfills };
        const unheld = lanes.lanes.filter((l) => !l.holder).length;
        const paused = routes
          .filter((r) => r.paused)
          .map((r) => ({ name: r.name, by: r.pausedBy, at: r.pausedAt }));
        output(opts.json, { queue, capture, relay: lag, planner, lanes, paused }, () =>
          [
            `pending ${queue.byState.pending}  running ${queue.byState.running}  done ${queue.byState.done}  dead ${queue.byState.dead}`,
            `oldest pending: ${queue.oldestPendingAgeMs === null ? '-' : `${Math.round(queue.oldestPendingAgeMs)} ms`}`,
            `capture: ${capture.changes} change(s) not yet fanned out`,
            `routes: ${routes.length}${paused.length ? `; paused (their rows wait): ${paused.map((p) => `${p.name} by ${p.by ?? '?'}`).join(', ')}` : ''}`,
            `relay: ${lag.unpublished} unpublished`,
            `instances: ${lanes.instances.length ? lanes.instances.map((i) => `${i.id} (${i.lanes.length} lanes)`).join(', ') : 'none running'}` +
              `; ${lanes.total} lanes${unheld ? `, ${unheld} held by nobody` : ''}`,
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
