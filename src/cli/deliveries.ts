import { InvalidArgumentError, type Command } from 'commander';
import { parseLimit, parseRoute, parseSince } from './parse-options';
import { output, withPool } from './util';

const STATUSES = ['succeeded', 'failed', 'dead', 'deferred'];
const parseStatus = (v: string) => {
  if (!STATUSES.includes(v)) throw new InvalidArgumentError(`must be one of ${STATUSES.join(', ')}`);
  return v;
};
const parseEvent = (v: string) => {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v))
    throw new InvalidArgumentError('must be an event id (a UUID)');
  return v;
};
const parseText = (v: string) => {
  if (v.length === 0 || v.length > 512) throw new InvalidArgumentError('must be 1-512 characters');
  return v;
};

interface Opts {
  route?: string;
  entity?: string;
  record?: string;
  event?: string;
  status?: 'succeeded' | 'failed' | 'dead' | 'deferred';
  since?: Date;
  limit: number;
  cursor?: string;
  json?: boolean;
}

export function registerDeliveries(program: Command): void {
  program
    .command('deliveries')
    .description('the attempt log: delivery attempts, newest first (filters combine with AND)')
    .option('--route <name>', 'only this route', parseRoute)
    .option('--entity <name>', 'only this entity', parseText)
    .option('--record <id>', 'only this record id', parseText)
    .option('--event <id>', 'only this event (its whole history, every route)', parseEvent)
    .option('--status <s>', `only ${STATUSES.join(' | ')} (failed includes dead)`, parseStatus)
    .option('--since <time>', 'only attempts started since (ISO time or 15m, 2h, 3d)', parseSince)
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 50)
    .option('--cursor <c>', 'the page after this one (`next` of a --json answer)')
    .option('--json', 'machine-readable output: { items, next }')
    .action(async (opts: Opts, cmd: Command) => {
      const lib = await import('../db/attempts/list-attempts.js');
      const beforeId = opts.cursor === undefined ? undefined : lib.decodeCursor(opts.cursor);
      if (beforeId === null) cmd.error('sluice: --cursor is not one sluice gave out', { exitCode: 2 });
      await withPool(async (pool) => {
        const page = await lib.listAttempts(pool, {
          route: opts.route,
          entity: opts.entity,
          recordId: opts.record,
          eventId: opts.event,
          status: opts.status,
          since: opts.since,
          beforeId,
          limit: opts.limit,
        });
        const last = page.items.at(-1);
        const next = page.more && last ? lib.encodeCursor(last.id) : null;
        output(opts.json, { items: page.items, next }, () => {
          if (page.items.length === 0) return 'no attempts';
          const lines = page.items.map(
            (a) =>
              `${a.startedAt}\t${a.route}\t${a.entity}:${a.recordId}\t#${a.attempt}\t${a.outcome}\t` +
              `${a.httpStatus ?? a.errorCode ?? '-'}\t${a.durationMs} ms\t${a.eventId}`,
          );
          if (next) lines.push(`more: --cursor ${next}`);
          return lines.join('\n');
        });
      });
    });
}
