import type { DeliveryEvent } from '../../connectors/types';

/** One request's events, and where each sits in the list they came from. */
export interface Chunk {
  at: number[];
  events: DeliveryEvent[];
}

/**
 * Splits events into requests: events that may share a request (same `groupKey`; all of them when there is
 * no key) in arrival order, at most `batch` per request.
 */
export function chunkEvents(
  events: DeliveryEvent[],
  batch: number,
  groupKey?: (e: DeliveryEvent) => string,
): Chunk[] {
  const chunks: Chunk[] = [];
  for (const group of groups(events, batch, groupKey)) {
    for (let i = 0; i < group.length; i += batch) {
      const at = group.slice(i, i + batch);
      chunks.push({ at, events: at.map((k) => events[k]) });
    }
  }
  return chunks;
}

/** Index lists of events that may share a request, in arrival order. */
function groups(events: DeliveryEvent[], batch: number, key?: (e: DeliveryEvent) => string): number[][] {
  if (batch === 1 || !key) return [events.map((_, i) => i)];
  const byKey = new Map<string, number[]>();
  events.forEach((e, i) => {
    const k = key(e);
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  return [...byKey.values()];
}
