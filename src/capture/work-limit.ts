import { SluiceError } from '../lib/errors';

/**
 * The most payload bytes one request may have Sluice store: ids x the shared payload's serialised size
 * (every id gets its own change-log and queue row carrying the payload). Pushes, webhooks and `sync`
 * processes answer more with 413 `work_too_large`, before anything is written.
 */
export const MAX_REQUEST_WORK_BYTES = 64 * 1024 * 1024;

const mb = (bytes: number) =>
  bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;

/** Why `ids` copies of a `bytes`-byte payload are too much for one request, or null when they are not. */
export function workLimitProblem(ids: number, bytes: number): string | null {
  if (ids * bytes <= MAX_REQUEST_WORK_BYTES) return null;
  return (
    `${ids} ids x ${mb(bytes)} payload = ${mb(ids * bytes)} to store, more than the ` +
    `${MAX_REQUEST_WORK_BYTES / 1024 / 1024} MiB one request may create; send fewer ids per request or a smaller payload`
  );
}

/**
 * A payload shared by every id of a request, serialised once (JSON text for one jsonb parameter that
 * sluice_enqueue stores by reference). Throws `work_too_large` when ids x its size passes the limit.
 * undefined (no payload) -> null.
 */
export function sharedPayload(payload: unknown, ids: number): string | null {
  if (payload === undefined) return null;
  const json = JSON.stringify(payload);
  const problem = workLimitProblem(ids, Buffer.byteLength(json));
  if (problem) throw new SluiceError('work_too_large', problem);
  return json;
}
