import { randomUUID } from 'node:crypto';
import { createHttpClient } from '../../src/callout/http-client';

/**
 * The HTTP call a peer's job makes: the same request Sluice's webhook connector sends (POST of the
 * same JSON shape and Idempotency-Key header) through the same HTTP client Sluice's callouts use
 * (src/callout/http-client.ts: keep-alive axios, same socket cap, same 10 s timeout), so peers and
 * Sluice differ only in how they queue, dispatch and settle.
 */
export function peerCall(url: string, concurrency: number) {
  const client = createHttpClient(concurrency, 10_000);
  return async (recordId: string): Promise<void> => {
    const eventId = randomUUID();
    const body = JSON.stringify({
      eventId,
      entity: 'account',
      recordId,
      op: 'update',
      source: 'bench',
      occurredAt: new Date(),
      payload: null,
      attempt: 1,
      merged: 0,
    });
    const res = await client.request({
      method: 'POST',
      url,
      data: body,
      headers: { 'content-type': 'application/json', 'idempotency-key': `${eventId}:sink` },
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
  };
}

/**
 * Untimed warm-up of the HTTP call path (axios, node:http, the sink's keep-alive sockets) before a
 * timed drain. Every drain scenario (Sluice's and the peers') calls it first, so none is measured
 * with a cold JIT just because it runs first in the process: a --quick drain lasts about two seconds,
 * and a cold client costs a large part of that.
 */
export async function warmHttpCall(url: string, concurrency: number, calls = 1_000): Promise<void> {
  const call = peerCall(url, concurrency);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await call(`warm-${next++}`);
    }),
  );
}

/** Polls `check` every 100 ms until it is true (the same cadence as Sluice's untilDrained). */
export async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 100));
}
