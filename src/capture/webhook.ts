import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { OpSchema } from '../config/route-schema';
import { rows } from '../db/pool';
import { countIngested } from '../metrics/ingest-counter';
import { enqueue, enqueueCall, enqueueParams } from '../db/queue/enqueue';
import { MAX_IDS, PushEntitySchema, RecordIdSchema } from './push';
import { sharedPayload } from './work-limit';

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
 * Enqueues a verified webhook's changes. With a delivery id, the id is recorded in the same statement
 * as the enqueue, which runs only if the id was new: a retried delivery, even one racing the first
 * (ON CONFLICT waits for it), is either the first or a duplicate. One round trip either way.
 */
export async function acceptWebhook(pool: Pool, source: string, body: WebhookBody): Promise<WebhookResult> {
  const ids = body.ids ?? [body.id!];
  const payload = sharedPayload(body.payload, ids.length);
  const ticket = randomUUID();
  const input = {
    entity: body.entity,
    op: body.op,
    source: `webhook:${source}`,
    ids,
    sharedPayload: payload,
    ticket,
    // The service notifies after commit (coalesced): a NOTIFY here would serialise commits.
    notify: false,
  };
  if (body.deliveryId === undefined)
    return { ticket, accepted: await enqueue(pool, input), duplicate: false };
  const [first] = await rows<{ n: number | null }>(
    pool,
    `WITH claimed AS (
       INSERT INTO sluice_webhook_delivery (source, delivery_id, ticket, accepted) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source, delivery_id) DO NOTHING RETURNING 1
     )
     SELECT (SELECT ${enqueueCall(5)} FROM claimed) AS n`,
    [source, body.deliveryId, ticket, new Set(ids).size, ...enqueueParams(input)],
  );
  if (first.n !== null) {
    countIngested(input.source, first.n);
    return { ticket, accepted: first.n, duplicate: false };
  }
  const [prior] = await rows<{ ticket: string; accepted: number }>(
    pool,
    `SELECT ticket, accepted FROM sluice_webhook_delivery WHERE source = $1 AND delivery_id = $2`,
    [source, body.deliveryId],
  );
  return { ticket: prior.ticket, accepted: prior.accepted, duplicate: true };
}
