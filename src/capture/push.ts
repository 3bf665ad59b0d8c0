import { z } from 'zod';
import { NameSchema, OpSchema } from '../config/route-schema';
import { enqueue } from '../db/queue/enqueue';
import type { GroupItem } from '../db/queue/enqueue-group';
import type { Queryable } from '../db/pool';
import { sharedPayload } from './work-limit';
import { newTicket } from './ticket';

export const MAX_IDS = 10_000;

/** Entity names: no wildcard (that is for route matching only). */
export const PushEntitySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be 1-128 chars of letters, digits, "_.:-"');

/** Postgres text and jsonb cannot hold NUL characters: refuse them up front with a clear message. */
export const noNul = (s: string) => !s.includes('\u0000');
export const RecordIdSchema = z.string().min(1).max(256).refine(noNul, 'must not contain NUL characters');
/** True when no string or key anywhere in a JSON value holds a NUL (jsonb refuses them). */
function nulFree(v: unknown): boolean {
  if (typeof v === 'string') return noNul(v);
  if (Array.isArray(v)) return v.every(nulFree);
  if (v && typeof v === 'object') return Object.entries(v).every(([k, x]) => noNul(k) && nulFree(x));
  return true;
}
export const PayloadSchema = z.unknown().refine(nulFree, 'must not contain NUL characters (\\u0000)');

export const PushBodySchema = z
  .object({
    entity: PushEntitySchema,
    op: OpSchema,
    ids: z.array(RecordIdSchema).min(1).max(MAX_IDS),
    source: NameSchema.optional(),
    payload: PayloadSchema.optional(),
  })
  .strict();
export type PushBody = z.infer<typeof PushBodySchema>;

/** The source a push records: the door (API or CLI), and the caller's own source name if given. */
const pushSource = (body: PushBody, door: 'api' | 'cli') => (body.source ? `${door}:${body.source}` : door);

/**
 * A push from the API as an item of a group commit (capture/group-commit.ts), with its own ticket. The
 * payload is serialised once; ids x its size over the limit throws `work_too_large` before any grouping.
 */
export function pushItem(body: PushBody): GroupItem {
  return {
    entity: body.entity,
    op: body.op,
    source: pushSource(body, 'api'),
    ids: body.ids,
    sharedPayload: sharedPayload(body.payload, body.ids.length),
    ticket: newTicket(),
  };
}

/**
 * A direct push of record ids on its own (the CLI): one statement, committed before this resolves. The payload is serialised
 * once and shared by every id; ids x its size over the limit throws `work_too_large` before any write.
 * `door`: the API or the CLI (recorded as the source).
 */
export async function pushIds(
  db: Queryable,
  body: PushBody,
  opts: { notify?: boolean; door?: 'api' | 'cli' } = {},
): Promise<{ ticket: string; accepted: number }> {
  const payload = sharedPayload(body.payload, body.ids.length);
  const door = opts.door ?? 'api';
  const ticket = newTicket();
  const accepted = await enqueue(db, {
    entity: body.entity,
    op: body.op,
    source: pushSource(body, door),
    ids: body.ids,
    sharedPayload: payload,
    ticket,
    notify: opts.notify,
  });
  return { ticket, accepted };
}
