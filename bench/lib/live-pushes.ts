// Live traffic for the fairness scenario: single-id pushes through the API at a steady rate, and the
// commit-to-sink latency of each from a stamp sink (bench/lib/stamp-sink.ts).
import type { Stamp } from './stamp-sink';

const now = () => performance.timeOrigin + performance.now();

/**
 * Sends `rate` pushes per second of one id each (`<prefix><n>`, entity `entity`) to `apiUrl`/v1/events until
 * `stop()`, recording when each push's 202 came back (the API answers after its transaction committed).
 * `stop()` waits for the pushes in flight and returns the commit times and any failures.
 */
export function livePushes(apiUrl: string, key: string, entity: string, rate: number, prefix: string) {
  const committed = new Map<string, number>();
  const failures: string[] = [];
  const inflight = new Set<Promise<void>>();
  let running = true;
  const push = (id: string) => {
    const p: Promise<void> = fetch(`${apiUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ entity, op: 'update', ids: [id] }),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.status === 202) committed.set(id, now());
        else failures.push(`HTTP ${res.status}`);
      })
      .catch((err: Error) => void failures.push(err.message))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  const loop = (async () => {
    const t0 = now();
    for (let i = 0; running;) {
      const due = Math.floor(((now() - t0) / 1000) * rate) + 1;
      for (; i < due; i++) push(`${prefix}${i}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await Promise.all([...inflight]);
      return { committed, failures };
    },
  };
}

/**
 * Collects stamps from `take` until every id of `committed` reached the sink or `capMs` passed, and returns
 * each id's latency (arrival - commit, at least 0), sorted; an id that never arrived counts as Infinity.
 */
export async function sinkLatencies(
  take: () => Promise<Stamp[]>,
  committed: Map<string, number>,
  capMs: number,
): Promise<number[]> {
  const arrived = new Map<string, number>();
  const deadline = Date.now() + capMs;
  for (;;) {
    for (const [id, at] of await take()) if (committed.has(id) && !arrived.has(id)) arrived.set(id, at);
    if (arrived.size >= committed.size || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const out = [...committed].map(([id, at]) => {
    const got = arrived.get(id);
    return got === undefined ? Infinity : Math.max(0, got - at);
  });
  return out.sort((a, b) => a - b);
}

/** The p-th percentile of sorted values (nearest rank), rounded to 0.1. */
export function percentile(sorted: number[], p: number): number {
  const v = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return Number.isFinite(v) ? Number(v.toFixed(1)) : v;
}
