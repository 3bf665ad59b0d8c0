import type { RouteConfig } from '../config/route-schema';

/**
 * Delay before attempt `attempt + 1`: exponential from baseMs, capped at maxMs, with "equal jitter"
 * (half fixed, half random) so a burst of failures does not come back as a burst. A server's
 * Retry-After wins when it asks for longer.
 */
export function backoffMs(
  attempt: number,
  retry: RouteConfig['retry'],
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(exp / 2 + random() * (exp / 2));
  return retryAfterMs !== undefined ? Math.max(jittered, Math.min(retryAfterMs, 86_400_000)) : jittered;
}
