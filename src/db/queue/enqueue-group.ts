import type { Op } from '../../config/route-schema';
import { countIngested } from '../../metrics/ingest-counter';
import { rows, type Queryable } from '../pool';

/** One request's changes inside a group: what sluice_enqueue gets for it, and its own ticket. */
export interface GroupItem {
  entity: string;
  op: Op;
  source: string;
  ids: string[];
  /** The payload shared by every id, as JSON text (capture/work-limit.ts `sharedPayload`), or null. */
  sharedPayload: string | null;
  ticket: string;
  /** A webhook's delivery id: the item enqueues only when (source, id) was never accepted before. */
  delivery?: { source: string; id: string };
}

export interface GroupOutcome {
  ticket: string;
  accepted: number;
  /** True when the delivery id was accepted before: the first delivery's ticket and count, nothing added. */
  duplicate: boolean;
}

/**
 * Enqueues a group of requests in one statement, so in one transaction and one commit: the delivery ids
 * are claimed first (ON CONFLICT waits for a racing first delivery; a repeat inside the group is skipped
 * as a repeat of the earlier one), then sluice_enqueue runs once per item whose delivery was new, in
 * item order (volatile calls under ORDER BY are evaluated after the sort), so two changes to one record
 * keep their order and the later one coalesces into the earlier one as it would one statement later.
 * Any error rolls back the whole group (the caller isolates refused values, see capture/group-commit.ts).
 */
export async function enqueueGroup(db: Queryable, items: GroupItem[]): Promise<GroupOutcome[]> {
  const ids: string[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (const item of items) {
    lo.push(ids.length + 1);
    for (const id of item.ids) ids.push(id);
    hi.push(ids.length);
  }
  const col = <T>(f: (i: GroupItem) => T) => items.map(f);
  const out = await rows<{
    claimed_ticket: string | null;
    claimed_accepted: number | null;
    n: number | null;
  }>(
    db,
    `WITH item AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::uuid[], $7::text[],
                            $8::text[], $9::text[], $10::int[])
         WITH ORDINALITY AS i(entity, op, source, lo, hi, ticket, payload, d_source, d_id, d_accepted, ord)
     ),
     claimed AS (
       INSERT INTO sluice_webhook_delivery (source, delivery_id, ticket, accepted)
       SELECT d_source, d_id, ticket, d_accepted FROM item WHERE d_id IS NOT NULL ORDER BY ord
       ON CONFLICT (source, delivery_id) DO NOTHING
       RETURNING source, delivery_id, ticket, accepted
     )
     SELECT c.ticket AS claimed_ticket, c.accepted AS claimed_accepted,
            CASE WHEN i.d_id IS NULL OR c.ticket = i.ticket
                 THEN sluice_enqueue(i.entity, i.op, i.source, ($11::text[])[i.lo:i.hi], NULL, i.ticket, false,
                                     p_payload => i.payload::jsonb)
            END AS n
       FROM item i LEFT JOIN claimed c ON c.source = i.d_source AND c.delivery_id = i.d_id
      ORDER BY i.ord`,
    [
      col((i) => i.entity),
      col((i) => i.op),
      col((i) => i.source),
      lo,
      hi,
      col((i) => i.ticket),
      col((i) => i.sharedPayload),
      col((i) => i.delivery?.source ?? null),
      col((i) => i.delivery?.id ?? null),
      col((i) => new Set(i.ids).size),
      ids,
    ],
  );
  const outcomes: (GroupOutcome | null)[] = items.map((item, k) => {
    const r = out[k];
    if (r.n !== null) {
      countIngested(item.source, r.n);
      return { ticket: item.ticket, accepted: r.n, duplicate: false };
    }
    // A repeat of a delivery claimed earlier in this group.
    if (r.claimed_ticket !== null)
      return { ticket: r.claimed_ticket, accepted: r.claimed_accepted!, duplicate: true };
    return null;
  });
  const earlier = items.filter((_, k) => outcomes[k] === null);
  if (earlier.length === 0) return outcomes as GroupOutcome[];
  // Repeats of deliveries accepted before this group: the first delivery's answer (committed by now).
  const prior = await rows<{ source: string; delivery_id: string; ticket: string; accepted: number }>(
    db,
    `SELECT d.source, d.delivery_id, d.ticket, d.accepted
       FROM sluice_webhook_delivery d
       JOIN unnest($1::text[], $2::text[]) AS k(source, delivery_id) USING (source, delivery_id)`,
    [earlier.map((i) => i.delivery!.source), earlier.map((i) => i.delivery!.id)],
  );
  const key = (source: string, id: string) => JSON.stringify([source, id]);
  const bySourceId = new Map(prior.map((p) => [key(p.source, p.delivery_id), p]));
  return items.map((item, k) => {
    if (outcomes[k]) return outcomes[k];
    const p = bySourceId.get(key(item.delivery!.source, item.delivery!.id));
    if (!p) throw new Error(`delivery ${item.delivery!.id} was neither new nor found`);
    return { ticket: p.ticket, accepted: p.accepted, duplicate: true };
  });
}
