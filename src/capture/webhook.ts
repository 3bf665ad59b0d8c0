import { z } from 'zod';
import { OpSchema } from '../config/route-schema';
import type { Queryable } from '../db/pool';
import { enqueueGroup, type GroupItem, type GroupOutcome } from '../db/queue/enqueue-group';
import { MAX_IDS, noNul, PayloadSchema, PushEntitySchema, RecordIdSchema } from './push';
import { sharedPayload } from './work-limit';
import { newTicket } from './ticket';

/** The body a signed webhook carries: one id or a list, an optional payload shared by all, a delivery id. */
export const WebhookBodySchema = z
  .object({
    entity: PushEntitySchema,
    op: OpSchema,
    id: RecordIdSchema.optional(),
    ids: z.array(RecordIdSchema).min(1).max(MAX_IDS).optional(),
    payload: PayloadSchema.optional(),
    /** The sender's id of this delivery: a repeat of one already accepted adds nothing. */
    deliveryId: z.string().min(1).max(200).refine(noNul, 'must not contain NUL characters').optional(),
  })
  .strict()
  .refine((b) => (b.id === undefined) !== (b.ids === undefined), {
    message: 'give exactly one of "id" or "ids"',
    path: ['id'],
  });
export type WebhookBody = z.infer<typeof WebhookBodySchema>;

/** duplicate: true when this deliveryId was accepted before (the first delivery's answer, nothing added). */
export type WebhookResult = GroupOutcome;

/**
 * A verified webhook as an item of a group commit (capture/group-commit.ts), with its own ticket. With a
 * delivery id, the id is claimed in the group's statement and the changes enqueue only if it was new: a
 * retried delivery, even one racing the first (ON CONFLICT waits for it) or in the same group, is either
 * the first or a duplicate with the first's answer.
 */
export function webhookItem(source: string, body: WebhookBody): GroupItem {
  const ids = body.ids ?? [body.id!];
  return {
    entity: body.entity,
    op: body.op,
    source: `webhook:${source}`,
    ids,
    sharedPayload: sharedPayload(body.payload, ids.length),
    ticket: newTicket(),
    delivery: body.deliveryId === undefined ? undefined : { source, id: body.deliveryId },
  };
}

/** Enqueues one verified webhook on its own (a group of one): one round trip for a new delivery. */
export async function acceptWebhook(
  db: Queryable,
  source: string,
  body: WebhookBody,
): Promise<WebhookResult> {
  const [result] = await enqueueGroup(db, [webhookItem(source, body)]);
  return result;
}
