import { InvalidArgumentError, type Command } from 'commander';
import { NAME_PATTERN } from '../config/names';
import { output, withPool } from './util';

const parseRoute = (v: string) => {
  if (!NAME_PATTERN.test(v)) throw new InvalidArgumentError('not a valid route name');
  return v;
};
const parseSince = (v: string) => {
  // ISO 8601 times, or a relative "15m" / "2h" / "3d".
  const rel = /^(\d+)([smhd])$/.exec(v);
  if (rel)
    return new Date(Date.now() - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's']);
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t))
    throw new InvalidArgumentError('must be an ISO time (2026-01-31T10:00:00Z) or an age like 15m, 2h, 3d');
  return new Date(t);
};
const parseLimit = (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 1000)
    throw new InvalidArgumentError('must be an integer from 1 to 1000');
  return n;
};
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
