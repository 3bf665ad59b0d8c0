import { InvalidArgumentError, type Command } from 'commander';
import { OPS } from '../config/names';
import { fail, output, withPool } from './util';

const parseOp = (v: string) => {
  if (!(OPS as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${OPS.join(', ')}`);
  return v;
};

interface PushOpts {
  entity: string;
  op: string;
  ids?: string;
  stdin?: boolean;
  payload?: string;
  json?: boolean;
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description('enqueue changes for record ids (comma list, or one per line on stdin with --stdin)')
    .requiredOption('--entity <name>', 'entity name, e.g. account')
    .requiredOption('--op <op>', `one of ${OPS.join(', ')}`, parseOp)
    .option('--ids <list>', 'comma-separated record ids')
    .option('--stdin', 'read ids from standard input, one per line')
    .option('--payload <json>', 'JSON payload attached to every id')
    .option('--json', 'machine-readable output')
    .action(async (opts: PushOpts) => {
      const split = (s: string, sep: RegExp) =>
        s
          .split(sep)
          .map((x) => x.trim())
          .filter(Boolean);
      let ids = split(opts.ids ?? '', /,/);
      if (opts.stdin) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        ids = ids.concat(split(Buffer.concat(chunks).toString('utf8'), /\r?\n/));
      }
      let payload: unknown;
      if (opts.payload !== undefined) {
        try {
          payload = JSON.parse(opts.payload);
        } catch {
          fail('--payload is not valid JSON');
        }
      }
      const { PushBodySchema, pushIds } = await import('../capture/push.js');
      const parsed = PushBodySchema.safeParse({
        entity: opts.entity,
        op: opts.op,
        ids,
        ...(payload !== undefined && { payload }),
      });
      if (!parsed.success) {
        fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
      }
      await withPool(async (pool) => {
        const result = await pushIds(pool, parsed.data, { door: 'cli' });
        output(opts.json, result, () => `accepted ${result.accepted} change(s), ticket ${result.ticket}`);
      });
    });
}
