import type { Outcome } from '../../connectors/types';

/** Statuses that are the endpoint's trouble (worth a retry, and counted by the breaker). */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Transport errors carrying these codes come from the request itself (a bad URL or option, a body over
 * the limit): sending it again cannot help. Any other coded error (refused, reset, DNS, TLS, timeout,
 * abort) is the network's or the endpoint's trouble and worth a retry.
 */
const REQUEST_PROBLEM_CODES = new Set([
  'ERR_INVALID_URL',
  'ERR_BAD_OPTION',
  'ERR_BAD_OPTION_VALUE',
  'ERR_NOT_SUPPORT',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_UNESCAPED_CHARACTERS',
  'ERR_FR_MAX_BODY_LENGTH_EXCEEDED',
  'ERR_FR_TOO_MANY_REDIRECTS',
]);

/** Thrown inside the breaker for a non-2xx response, so opossum can count it (or not, see errorFilter). */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(readonly response: { status: number; headers: Record<string, unknown>; data: unknown }) {
    super(`HTTP ${response.status}`);
  }
}

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
    typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : jsonHead(data, max);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * JSON.stringify(data), or for a long plain array a prefix of it longer than `max` (all an excerpt keeps):
 * a composite response answers for up to 200 records, and every 2xx one is excerpted for the attempt log.
 * The text of the array's first n elements without its closing `]` is a prefix of the whole array's text
 * (elements are written by index whatever follows them), so the excerpt is the same either way.
 */
function jsonHead(data: unknown, max: number): string {
  if (Array.isArray(data) && Object.getPrototypeOf(data) === Array.prototype && !('toJSON' in data)) {
    for (let n = 16; n < data.length; n *= 4) {
      const head = JSON.stringify(data.slice(0, n));
      if (head.length > max + 1) return head.slice(0, -1);
    }
  }
  return JSON.stringify(data);
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

/** A transport error (no response) -> outcome: network trouble, TLS and timeouts are retriable. */
export function classifyError(err: unknown): Outcome {
  const e = err as { code?: string; message?: string; name?: string };
  const message = e?.message ?? String(err);
  const timeoutOrAbort = e?.name === 'AbortError' || e?.name === 'TimeoutError';
  if ((e?.code && !REQUEST_PROBLEM_CODES.has(e.code)) || timeoutOrAbort) {
    return { kind: 'retriable', status: null, error: `${e.code ?? e.name}: ${message}` };
  }
  return { kind: 'permanent', status: null, error: message };
}

/** Any failure of a callout -> outcome (one place, used by the breaker's errorFilter and by the caller). */
export function classifyFailure(err: unknown): Outcome {
  return err instanceof HttpStatusError ? classifyResponse(err.response) : classifyError(err);
}
