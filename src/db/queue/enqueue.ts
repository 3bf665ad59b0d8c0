import type { Op } from '../../config/route-schema';
import { countIngested } from '../../metrics/ingest-counter';
import { rows, type Queryable } from '../pool';

export interface EnqueueInput {
  entity: string;
  op: Op;
  source: string;
  ids: string[];
  /** One payload per id (same index), or one shared payload, or none. */
  payloads?: unknown[] | null;
  ticket?: string | null;
  /**
   * NOTIFY inside the transaction (default true). Postgres serialises the commits of notifying
   * transactions, so hot paths pass false and notify after commit through a PeerNotifier.
   */
  notify?: boolean;
}

/**
 * The one enqueue path (API pushes, webhooks; triggers call the same SQL function): logs each change
 * for the Kafka relay and fans it out to the matching routes' queues, coalescing waiting rows.
 * Returns the number of distinct changes accepted.
 */
export async function enqueue(db: Queryable, input: EnqueueInput): Promise<number> {
  const [row] = await rows<{ n: number }>(
    db,
    'SELECT sluice_enqueue($1, $2, $3, $4::text[], $5::jsonb[], $6::uuid, $7) AS n',
    enqueueParams(input),
  );
  countIngested(input.source, row.n);
  return row.n;
}

/** The seven parameters of sluice_enqueue, for statements that embed the call. */
export function enqueueParams(input: EnqueueInput): unknown[] {
  const payloads = input.payloads
    ? input.payloads.map((p) => (p === undefined ? null : JSON.stringify(p)))
    : null;
  return [
    input.entity,
    input.op,
    input.source,
    input.ids,
    payloads,
    input.ticket ?? null,
    input.notify ?? true,
  ];
}
