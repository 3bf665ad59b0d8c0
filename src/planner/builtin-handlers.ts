import { z } from 'zod';
import { NameSchema, OpSchema } from '../config/route-schema';
import { PushEntitySchema, RecordIdSchema, MAX_IDS } from '../capture/push';
import { sharedPayload, workLimitProblem } from '../capture/work-limit';
import { enqueue } from '../db/queue/enqueue';
import { rows } from '../db/pool';
import { registerHandler } from './handlers';
import { checkBackfillTable } from './backfill/access';
import { runBackfill } from './backfill/run-backfill';
import { splitTable } from './backfill/target';
import { SluiceError } from '../lib/errors';

const IdentSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/,
    'must be a plain identifier, optionally schema-qualified',
  );

export const BackfillParamsSchema = z
  .object({
    table: IdentSchema,
    route: NameSchema,
    key: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/)
      .optional(),
    entity: PushEntitySchema.optional(),
    page: z.number().int().min(1).max(10_000).default(500),
    threads: z.number().int().min(1).max(64).default(8),
    warnAfterMs: z
      .number()
      .int()
      .min(1)
      .max(86_400_000)
      .default(20 * 60_000),
    stopAfterMs: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400_000)
      .default(60 * 60_000),
    /** Start from the beginning even if an unfinished backfill of the table and route could be resumed. */
    restart: z.boolean().optional(),
  })
  .strict();

/** Registration refuses what the run would (403 table_not_allowed); the run checks again, the config may change. */
const BackfillProcessParams = BackfillParamsSchema.superRefine((p, ctx) => {
  try {
    checkBackfillTable(...splitTable(p.table), 'planner');
  } catch (err) {
    if (!(err instanceof SluiceError)) throw err;
    ctx.addIssue({ code: 'custom', path: ['table'], message: err.message, params: { code: err.code } });
  }
});

export const SyncParamsSchema = z
  .object({
    entity: PushEntitySchema,
    ids: z.array(RecordIdSchema).min(1).max(MAX_IDS),
    op: OpSchema.default('upsert'),
    payload: z.unknown().optional(),
    /** Only this route; default every route matching the entity. */
    route: NameSchema.optional(),
  })
  .strict();

/** Registration refuses ids x payload over the limit (413 work_too_large), not every run of it. */
const SyncProcessParams = SyncParamsSchema.superRefine((p, ctx) => {
  const bytes = p.payload === undefined ? 0 : Buffer.byteLength(JSON.stringify(p.payload));
  const problem = workLimitProblem(p.ids.length, bytes);
  if (problem)
    ctx.addIssue({ code: 'custom', path: ['payload'], message: problem, params: { code: 'work_too_large' } });
});

/** The handlers every Sluice process has: `backfill` (paged enrichment) and `sync` (a connector sync). */
export function registerBuiltinHandlers(): void {
  registerHandler('backfill', {
    description: 'pages a table by keyset into one route (params: table, route, key?, page?, threads?, ...)',
    params: BackfillProcessParams,
    run: async (ctx) => {
      const p = BackfillParamsSchema.parse(ctx.params);
      const result = await runBackfill(ctx.pool, {
        ...p,
        holder: `run:${ctx.runId}`,
        caller: 'planner',
        runId: ctx.runId,
        signal: ctx.signal,
        log: ctx.log,
        onProgress: (pr) =>
          ctx.progress({
            backfillId: pr.id,
            rowsDone: pr.rowsDone,
            rowsTotal: pr.totalRows,
            cursor: pr.cursor,
            pagesStarted: pr.pagesStarted,
            pagesFinished: pr.pagesFinished,
            pagesSlow: pr.pagesSlow,
            pagesStopped: pr.pagesStopped,
          }),
      });
      if (result.status !== 'done') throw new Error(result.error ?? 'backfill failed');
    },
  });

  registerHandler('sync', {
    description:
      "enqueues a sync of an entity's records (params: entity, ids, op?, payload?, route?) to its routes",
    params: SyncProcessParams,
    run: async (ctx) => {
      const p = SyncParamsSchema.parse(ctx.params);
      const source = `sync:${ctx.process}`;
      const payload = sharedPayload(p.payload, p.ids.length);
      let accepted: number;
      if (p.route) {
        const [r] = await rows<{ n: number }>(
          ctx.pool,
          'SELECT sluice_enqueue_route($1, $2, $3, $4, $5::text[], NULL, $6::uuid, $7::jsonb) AS n',
          [p.route, p.entity, p.op, source, p.ids, ctx.runId, payload],
        );
        accepted = r.n;
      } else {
        accepted = await enqueue(ctx.pool, {
          entity: p.entity,
          op: p.op,
          source,
          ids: p.ids,
          sharedPayload: payload,
          ticket: ctx.runId,
        });
      }
      ctx.progress({ accepted, ticket: ctx.runId });
    },
  });
}
