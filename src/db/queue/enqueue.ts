import type { Op } from '../../config/route-schema';
import { countIngested } from '../../metrics/ingest-counter';
import { rows, type Queryable } from '../pool';

export interface EnqueueInput {
  entity: string;
  op: Op;
  source: string;
  ids: string[];
  /** One payload per id (same index), for payloads that differ; each is serialised on its own. */
  payloads?: unknown[] | null;
  /**
   * One payload shared by every id, as JSON text serialised once (capture/work-limit.ts `sharedPayload`,
   * which also bounds ids x its size). Sent as one jsonb parameter that each row references.
   */
  sharedPayload?: string | null;
  ticket?: string | null;
  /**
   * NOTIFY inside the transaction (default true). Postgres serialises the commits of notifying
   * transactions, so hot paths pass false and notify after commit through a PeerNotifier.
   */
  notify?: boolean;
}

/** sluice_enqueue over the eight parameters of enqueueParams, numbered from $`first`. */
function enqueueCall(first = 1): string {
  const p = (i: number) => `$${first + i}`;
  return `sluice_enqueue(${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}::text[], ${p(4)}::jsonb[], ${p(5)}::uuid, ${p(6)}, p_payload => ${p(7)}::jsonb)`;
}

/**
 * One call of the one enqueue function (the CLI's pushes; API pushes and webhooks call it through
 * enqueue-group.ts, triggers through the fan-out): logs each change for the Kafka relay and fans it out
 * to the matching routes' queues, coalescing waiting rows.
 * Returns the number of distinct changes accepted.
 */
export async function enqueue(db: Queryable, input: EnqueueInput): Promise<number> {
  const [row] = await rows<{ n: number }>(db, `SELECT ${enqueueCall()} AS n`, enqueueParams(input));
  countIngested(input.source, row.n);
  return row.n;
}

/** The eight parameters of enqueueCall. */
function enqueueParams(input: EnqueueInput): unknown[] {
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
    input.sharedPayload ?? null,
  ];
}
