import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../lib/duration';
import { SluiceError } from '../lib/errors';
import { BACKFILL_DEFAULTS } from '../planner/backfill/defaults';
import type { BackfillProgress } from '../planner/backfill/run-backfill';
import { applyBackfillTables, fail, output, withPool } from './util';

const intIn = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new InvalidArgumentError(`must be an integer ${min}..${max}`);
  return n;
};
const duration = (v: string) => {
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) throw new InvalidArgumentError('must be a duration like 500ms, 30s, 20m or 1h');
  return ms;
};

interface BackfillOpts {
  route: string;
  key?: string;
  entity?: string;
  page: number;
  threads: number;
  warnAfter: number;
  stopAfter: number;
  restart?: boolean;
  json?: boolean;
}

export function registerBackfill(program: Command): void {
  program
    .command('backfill <table>')
    .description(
      'page a table by keyset into one route (resumes an unfinished backfill of the same table and route from its checkpoint)',
    )
    .requiredOption('--route <name>', 'the route every row is delivered to')
    .option('--key <column>', 'keyset column (default: the single-column primary key)')
    .option('--entity <name>', 'entity name of the events (default: the table name)')
    .option('--page <rows>', 'rows per page', intIn(1, 10_000), BACKFILL_DEFAULTS.page)
    .option('--threads <n>', 'pages in flight at once', intIn(1, 64), BACKFILL_DEFAULTS.threads)
    .option(
      '--warn-after <duration>',
      'report pages running longer than this',
      duration,
      BACKFILL_DEFAULTS.warnAfterMs,
    )
    .option(
      '--stop-after <duration>',
      'stop pages running longer than this',
      duration,
      BACKFILL_DEFAULTS.stopAfterMs,
    )
    .option('--restart', 'start from the beginning even if an unfinished backfill could be resumed')
    .option('--json', 'machine-readable output (no progress bar)')
    .action(async (table: string, opts: BackfillOpts) => {
      const [{ SingleBar }, { progressLine }, { runBackfill }] = await Promise.all([
        import('cli-progress'),
        import('./progress-line.js'),
        import('../planner/backfill/run-backfill.js'),
      ]);
      await applyBackfillTables();
      await withPool(async (pool) => {
        const showBar = !opts.json && process.stderr.isTTY;
        // Figures first, the bar in what is left: rate and ETA stay visible at 80 columns.
        const bar = new SingleBar({
          format: (_o, params, payload: { table: string; rate: number }) =>
            progressLine(
              { table: payload.table, done: params.value, total: params.total, rate: payload.rate },
              process.stderr.columns ?? 80,
            ),
          hideCursor: true,
        });
        let barStarted = false;
        let lastLine = 0;
        const onProgress = (p: BackfillProgress) => {
          const rate = p.elapsedMs > 0 ? Math.round((p.rowsThisRun / p.elapsedMs) * 1000) : 0;
          const fields = {
            table: p.table,
            rate,
            finished: p.pagesFinished,
            started: p.pagesStarted,
            slow: p.pagesSlow,
            stopped: p.pagesStopped,
          };
          if (showBar) {
            if (!barStarted) {
              bar.start(p.totalRows, p.rowsDone, fields);
              barStarted = true;
            }
            bar.setTotal(p.totalRows);
            bar.update(p.rowsDone, fields);
          } else if (!opts.json && Date.now() - lastLine > 5000) {
            // Not a terminal (a log file, CI): a plain line every few seconds instead of a bar.
            lastLine = Date.now();
            console.error(`backfill ${p.table}: ${p.rowsDone}/${p.totalRows} rows, ${rate} rows/s`);
          }
        };
        const warn = (o: object, m: string) => {
          if (!opts.json) {
            if (barStarted) bar.stop();
            barStarted = false;
            console.error(`sluice: ${m} ${JSON.stringify(o)}`);
          }
        };
        let result;
        try {
          result = await runBackfill(pool, {
            table,
            route: opts.route,
            key: opts.key,
            entity: opts.entity,
            page: opts.page,
            threads: opts.threads,
            warnAfterMs: opts.warnAfter,
            stopAfterMs: opts.stopAfter,
            restart: opts.restart,
            holder: `cli:${process.pid}`,
            caller: 'cli',
            onProgress,
            log: { warn, info: () => undefined },
          });
        } catch (err) {
          if (barStarted) bar.stop();
          if (
            err instanceof SluiceError &&
            ['bad_input', 'already_running', 'table_not_allowed'].includes(err.code)
          )
            fail(err.message);
          throw err;
        }
        if (barStarted) bar.stop();
        output(opts.json, result, () =>
          [
            `backfill ${result.table} -> ${result.route}: ${result.status}${result.resumed ? ` (resumed after ${result.resumedFrom})` : ''}`,
            `  rows ${result.rowsDone}/${result.totalRows} (${result.rowsThisRun} this run) in ${(result.elapsedMs / 1000).toFixed(1)} s`,
            `  pages started ${result.pagesStarted}, finished ${result.pagesFinished}, slow ${result.pagesSlow}, stopped ${result.pagesStopped}`,
            `  checkpoint ${result.cursor ?? '-'}  ticket ${result.id}`,
            ...(result.error ? [`  error: ${result.error}`] : []),
          ].join('\n'),
        );
        if (result.status !== 'done') process.exitCode = 1;
      });
    });
}
