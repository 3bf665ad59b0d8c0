import { InvalidArgumentError, type Command } from 'commander';
import { parseLimit, parseRoute, parseSince } from './parse-options';
import { output, withPool } from './util';

const parseIds = (v: string, prev: string[] = []) => {
  const ids = v.split(',').map((x) => x.trim());
  for (const id of ids)
    if (!/^[1-9][0-9]{0,18}$/.test(id)) throw new InvalidArgumentError(`"${id}" is not a row id`);
  return prev.concat(ids);
};

interface Filter {
  route?: string;
  since?: Date;
  json?: boolean;
}

export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description('dead letters: list them, replay them');

  dlq
    .command('list')
    .description('list dead letters, newest first')
    .option('--route <name>', 'only this route', parseRoute)
    .option('--since <time>', 'only rows that died since (ISO time or 15m, 2h, 3d)', parseSince)
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 100)
    .option('--json', 'machine-readable output')
    .action(async (opts: Filter & { limit: number }) => {
      const { listDead } = await import('../db/queue/list-dead.js');
      await withPool(async (pool) => {
        const items = await listDead(pool, opts);
        output(opts.json, { items }, () =>
          items.length === 0
            ? 'no dead letters'
            : items
                .map(
                  (d) =>
                    `${d.id}\t${d.deadAt}\t${d.route}\t${d.entity}:${d.recordId}\t${d.op}\tattempts ${d.attempts}\t${d.lastStatus ?? '-'}\t${(d.lastError ?? '').slice(0, 80)}`,
                )
                .join('\n'),
        );
      });
    });

  dlq
    .command('replay')
    .description('put dead letters back to pending (attempts reset); selectors combine with AND')
    .option('--id <ids>', 'row ids (comma list, repeatable)', parseIds)
    .option('--route <name>', 'only this route', parseRoute)
    .option('--since <time>', 'only rows that died since (ISO time or 15m, 2h, 3d)', parseSince)
    .option('--all', 'replay every dead letter (needed when no other selector is given)')
    .option('--json', 'machine-readable output')
    .action(async (opts: Filter & { id?: string[]; all?: boolean }, cmd: Command) => {
      if (!opts.all && !opts.id && !opts.route && !opts.since)
        cmd.error('sluice: give --id, --route or --since (or --all to replay every dead letter)', {
          exitCode: 2,
        });
      const { replayDead } = await import('../db/queue/replay-dead.js');
      await withPool(async (pool) => {
        const replayed = await replayDead(pool, { ...opts, ids: opts.id });
        output(opts.json, { replayed }, () => `replayed ${replayed} dead letter(s)`);
      });
    });
}
