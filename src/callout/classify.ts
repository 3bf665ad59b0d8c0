import type { Outcome } from '../../connectors/types';

/** Statuses that are the endpoint's trouble (worth a retry, and counted by the breaker). */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

const RETRIABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_CANCELED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/** Retry-After as seconds or an HTTP date -> ms from now (null when absent or unreadable). */
export function parseRetryAfter(value: unknown, now = Date.now()): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A short, single-line excerpt of a response body for dead letters and logs. */
export function excerpt(data: unknown, max = 500): string {
  if (data === undefined || data === null) return '';
  const text =
    typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : JSON.stringify(data);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A non-2xx response -> outcome: 408/429/5xx retriable (with Retry-After), other statuses permanent. */
export function classifyResponse(res: {
  status: number;
  headers?: Record<string, unknown>;
  data?: unknown;
}): Outcome {
  if (res.status >= 200 && res.status < 300) return { kind: 'success', status: res.status };
  const response = excerpt(res.data);
  const error = `HTTP ${res.status}`;
  if (isRetriableStatus(res.status)) {
    const retryAfterMs =
      res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers?.['retry-after']) : null;
    return {
      kind: 'retriable',
      status: res.status,
      error,
      response,
      ...(retryAfterMs !== null && { retryAfterMs }),
    };
  }
  return { kind: 'permanent', status: res.status, error, response };
}

/** A transport error (no response) -> outcome: network trouble and timeouts are retriable. */
export function classifyError(err: unknown): Outcome {
  const e = err as { code?: string; message?: string; name?: string };
  const message = e?.message ?? String(err);
  if ((e?.code && RETRIABLE_CODES.has(e.code)) || e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return { kind: 'retriable', status: null, error: `${e.code ?? e.name}: ${message}` };
  }
  return { kind: 'permanent', status: null, error: message };
}
