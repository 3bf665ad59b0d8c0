import { randomUUID } from 'node:crypto';
import type { DeliveryEvent } from '../../connectors/types';

/** `n` events shaped like the drain's claimed rows. */
export function benchEvents(n: number, route: string, entity = 'account'): DeliveryEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: randomUUID(),
    route,
    entity,
    recordId: `${entity}-${i}`,
    op: 'update' as const,
    source: 'bench',
    occurredAt: new Date(),
    payload: { name: `Name ${i}`, plan: 'gold' },
    attempts: 1,
    mergedCount: 0,
  }));
}

/** Runs `work(item)` over all items with `workers` loops in parallel; returns the seconds it took. */
export async function pool<T>(
  items: T[],
  workers: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}
