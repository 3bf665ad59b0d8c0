import type { Op } from '../../config/route-schema';
import { countIngested } from '../../metrics/ingest-counter';
import { rows, type Queryable } from '../pool';
import { planCalls, type Call } from './group-calls';

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

/** Changes a request adds: its distinct ids (what sluice_enqueue counts for them). */
const distinct = (item: GroupItem) => new Set(item.ids).size;

export interface GroupOutcome {
  ticket: string;
  accepted: number;
  /** True when the delivery id was accepted before: the first delivery's ticket and count, nothing added. */
  duplicate: boolean;
}

/**
 * Enqueues a group of requests in one statement, so in one transaction and one commit. The delivery ids
 * are claimed first (ON CONFLICT waits for a racing first delivery; a repeat inside the group is skipped
 * as a repeat of the earlier one); then the few sluice_enqueue calls of group-calls.ts run in their
 * order (volatile calls under ORDER BY are evaluated after the sort), with the ids of items whose
 * delivery was a repeat left out, each id carrying its own request's ticket. Any error rolls back the
 * whole group (the caller isolates refused values, see capture/group-commit.ts).
 */
export async function enqueueGroup(db: Queryable, items: GroupItem[]): Promise<GroupOutcome[]> {
  const plan = planCalls(items);
  const col = <T>(f: (c: Call) => T) => plan.calls.map(f);
  // A named statement: each connection parses and plans it once, not once per group.
  const out = (
    await db.query<{ claimed_ticket: string | null; claimed_accepted: number | null; live: boolean }>({
      name: 'sluice_enqueue_group',
      text: `WITH item AS (
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[])
         WITH ORDINALITY AS i(ticket, d_source, d_id, d_accepted, ord)
     ),
     claimed AS (
       INSERT INTO sluice_webhook_delivery (source, delivery_id, ticket, accepted)
       SELECT d_source, d_id, ticket, d_accepted FROM item WHERE d_id IS NOT NULL ORDER BY ord
       ON CONFLICT (source, delivery_id) DO NOTHING
       RETURNING source, delivery_id, ticket, accepted
     ),
     verdict AS (
       SELECT i.ord, i.ticket, c.ticket AS claimed_ticket, c.accepted AS claimed_accepted,
              (i.d_id IS NULL OR c.ticket = i.ticket) AS live
         FROM item i LEFT JOIN claimed c ON c.source = i.d_source AND c.delivery_id = i.d_id
     ),
     id AS (
       SELECT x.record_id, x.payload, x.k, v.ticket
         FROM unnest($5::text[], $6::int[], $7::text[]) WITH ORDINALITY AS x(record_id, item, payload, k)
         JOIN verdict v ON v.ord = x.item AND v.live
     ),
     enqueued AS (
       SELECT sluice_enqueue(c.entity, c.op, c.source, a.ids, a.payloads, NULL, false,
                             p_payload => c.shared::jsonb, p_tickets => a.tickets) AS n
         FROM unnest($8::text[], $9::text[], $10::text[], $11::int[], $12::int[], $13::text[])
                WITH ORDINALITY AS c(entity, op, source, lo, hi, shared, ord)
         CROSS JOIN LATERAL (
           SELECT array_agg(x.record_id ORDER BY x.k) AS ids, array_agg(x.payload::jsonb ORDER BY x.k) AS payloads,
                  array_agg(x.ticket ORDER BY x.k) AS tickets
             FROM id x WHERE x.k BETWEEN c.lo AND c.hi
         ) a
        WHERE a.ids IS NOT NULL
        ORDER BY c.ord
     )
     SELECT v.claimed_ticket, v.claimed_accepted, v.live, (SELECT count(*) FROM enqueued) AS calls
       FROM verdict v ORDER BY v.ord`,
      values: [
        items.map((i) => i.ticket),
        items.map((i) => i.delivery?.source ?? null),
        items.map((i) => i.delivery?.id ?? null),
        items.map((i) => distinct(i)),
        plan.ids,
        plan.itemOf,
        plan.payloads,
        col((c) => c.entity),
        col((c) => c.op),
        col((c) => c.source),
        col((c) => c.lo),
        col((c) => c.hi),
        col((c) => c.shared),
      ],
    })
  ).rows;
  const outcomes: (GroupOutcome | null)[] = items.map((item, k) => {
    const r = out[k];
    if (r.live) {
      countIngested(item.source, distinct(item));
      return { ticket: item.ticket, accepted: distinct(item), duplicate: false };
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
