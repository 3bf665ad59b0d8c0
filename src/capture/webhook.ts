import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { OpSchema } from '../config/route-schema';
import { inTransaction, rows } from '../db/pool';
import { enqueue } from '../db/queue/enqueue';
import { MAX_IDS, PushEntitySchema, RecordIdSchema } from './push';

/** The body a signed webhook carries: one id or a list, an optional payload shared by all, a delivery id. */
export const WebhookBodySchema = z
  .object({
    entity: PushEntitySchema,
    op: OpSchema,
    id: RecordIdSchema.optional(),
    ids: z.array(RecordIdSchema).min(1).max(MAX_IDS).optional(),
    payload: z.unknown().optional(),
    /** The sender's id of this delivery: a repeat of one already accepted adds nothing. */
    deliveryId: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => (b.id === undefined) !== (b.ids === undefined), {
    message: 'give exactly one of "id" or "ids"',
    path: ['id'],
  });
export type WebhookBody = z.infer<typeof WebhookBodySchema>;

export interface WebhookResult {
  ticket: string;
  accepted: number;
  /** True when this deliveryId was accepted before: the answer of the first delivery, nothing added. */
  duplicate: boolean;
}

/**
 * Enqueues a verified webhook's changes. The delivery id is recorded in the same transaction as the
 * enqueue, so a retried delivery, even one racing the first, is either the first or a duplicate.
 */
export async function acceptWebhook(pool: Pool, source: string, body: WebhookBody): Promise<WebhookResult> {
  const ids = body.ids ?? [body.id!];
  return inTransaction(pool, async (client) => {
    const ticket = randomUUID();
    if (body.deliveryId !== undefined) {
      // ON CONFLICT waits for a concurrent first delivery to commit or roll back before deciding.
      const claimed = await rows<{ ticket: string }>(
        client,
        `INSERT INTO sluice_webhook_delivery (source, delivery_id, ticket, accepted) VALUES ($1, $2, $3, 0)
         ON CONFLICT (source, delivery_id) DO NOTHING RETURNING ticket`,
        [source, body.deliveryId, ticket],
      );
      if (claimed.length === 0) {
        const [first] = await rows<{ ticket: string; accepted: number }>(
          client,
          `SELECT ticket, accepted FROM sluice_webhook_delivery WHERE source = $1 AND delivery_id = $2`,
          [source, body.deliveryId],
        );
        return { ticket: first.ticket, accepted: first.accepted, duplicate: true };
      }
    }
    const accepted = await enqueue(client, {
      entity: body.entity,
      op: body.op,
      source: `webhook:${source}`,
      ids,
      payloads: body.payload === undefined ? null : ids.map(() => body.payload),
      ticket,
    });
    if (body.deliveryId !== undefined) {
      await client.query(
        `UPDATE sluice_webhook_delivery SET accepted = $3 WHERE source = $1 AND delivery_id = $2`,
        [source, body.deliveryId, accepted],
      );
    }
    return { ticket, accepted, duplicate: false };
  });
}
