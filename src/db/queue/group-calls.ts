import type { GroupItem } from './enqueue-group';

/** A request's ids x payload bytes up to this go into a shared call (its payload sent once per id). */
export const MERGE_BYTES = 64 * 1024;

/** One sluice_enqueue call of a group: ids lo..hi (1-based, inclusive) of the flat per-id arrays. */
export interface Call {
  entity: string;
  op: string;
  source: string;
  lo: number;
  hi: number;
  /** A request alone in its call (big): its payload shared by every id, sent once. */
  shared: string | null;
}

/** The flat per-id arrays of a group and the calls over them, in the order they must run. */
export interface CallPlan {
  ids: string[];
  /** The item (1-based, the group's order) each id belongs to: its ticket and delivery. */
  itemOf: number[];
  /** Each id's payload in a shared call (its request's payload), null otherwise. */
  payloads: (string | null)[];
  calls: Call[];
}

const bytes = (s: string | null) => (s === null ? 0 : Buffer.byteLength(s));

/**
 * Few calls for many small requests: requests with the same (entity, op, source) share a call, each id
 * carrying its own request's ticket and payload; a big request (ids x payload over MERGE_BYTES) has a
 * call of its own. A record named by several requests is in one call per request, in arrival order: a
 * request's wave is one more than the latest wave of any record it names (0 if none), and calls run by
 * wave, so no call holds two changes of one record and each record's changes keep their order.
 */
export function planCalls(items: GroupItem[]): CallPlan {
  const lastWave = new Map<string, number>();
  const buckets = new Map<string, { wave: number; first: number; items: number[]; solo: boolean }>();
  items.forEach((item, k) => {
    const keys = item.ids.map((id) => JSON.stringify([item.entity, id]));
    const wave = Math.max(-1, ...keys.map((key) => lastWave.get(key) ?? -1)) + 1;
    for (const key of keys) lastWave.set(key, wave);
    const solo = item.ids.length * Math.max(1, bytes(item.sharedPayload)) > MERGE_BYTES;
    const bucket = solo ? `solo:${k}` : JSON.stringify([wave, item.entity, item.op, item.source]);
    const b = buckets.get(bucket) ?? { wave, first: k, items: [], solo };
    b.items.push(k);
    buckets.set(bucket, b);
  });
  const plan: CallPlan = { ids: [], itemOf: [], payloads: [], calls: [] };
  const ordered = [...buckets.values()].sort((a, b) => a.wave - b.wave || a.first - b.first);
  for (const b of ordered) {
    const head = items[b.first];
    const lo = plan.ids.length + 1;
    for (const k of b.items) {
      const item = items[k];
      for (const id of item.ids) {
        plan.ids.push(id);
        plan.itemOf.push(k + 1);
        plan.payloads.push(b.solo ? null : item.sharedPayload);
      }
    }
    plan.calls.push({
      entity: head.entity,
      op: head.op,
      source: head.source,
      lo,
      hi: plan.ids.length,
      shared: b.solo ? head.sharedPayload : null,
    });
  }
  return plan;
}
