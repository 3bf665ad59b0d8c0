import http from 'node:http';
import { randomUUID } from 'node:crypto';
import axios from 'axios';

/**
 * The HTTP call a peer's job makes: the same request Sluice's webhook connector sends (POST of the
 * same JSON shape, keep-alive axios with the same socket cap, a per-request abort timeout, the
 * Idempotency-Key header), so peers and Sluice differ only in how they queue and dispatch.
 */
export function peerCall(url: string, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const client = axios.create({ httpAgent: agent, validateStatus: () => true, maxRedirects: 0 });
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
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
  };
}

/** Polls `check` every 20 ms until it is true. */
export async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}
