import { EXCERPT_MAX, type CalloutOutcome } from '../callout/outcome';
import type { AttemptRows, HealthRows } from '../db/queue/settle-rows';
import type { ClaimedEvent } from '../db/queue/types';

/**
 * What the drain adds to the attempt log for one settle: per settled row, when its request went out, how
 * long it took, an error code and a 2xx body excerpt (the settle statement takes the rest from the rows it
 * settles, see settle-rows.ts). Deferred rows are included: the log says they were not sent and why.
 */
export function attemptRows(
  pairs: Array<{ event: ClaimedEvent; outcome: CalloutOutcome }>,
  now = Date.now(),
): AttemptRows {
  const r: AttemptRows = { queueIds: [], startedMs: [], durationMs: [], errorCodes: [], bodies: [] };
  for (const { event, outcome: o } of pairs) {
    r.queueIds.push(event.id);
    r.startedMs.push(o.startedAt ?? now);
    r.durationMs.push(Math.max(0, Math.round(o.ms ?? 0)));
    r.errorCodes.push(errorCodeOf(o));
    r.bodies.push(o.kind === 'success' && o.excerpt ? o.excerpt.slice(0, EXCERPT_MAX) : null);
  }
  return r;
}

/**
 * A short code for what went wrong without an HTTP status (or with one, for deferrals): the transport
 * error's code (ECONNREFUSED, ETIMEDOUT...), `breaker_open`, `probe_failed`, `not_configured`,
 * `connector` (the connector could not build the request or read the answer), else `error`.
 */
export function errorCodeOf(o: CalloutOutcome): string | null {
  if (o.kind === 'success') return null;
  if (o.kind === 'deferred') {
    if (o.error.startsWith('breaker open')) return 'breaker_open';
    if (o.error.startsWith('probe failed')) return 'probe_failed';
    if (o.error.includes('is not configured')) return 'not_configured';
    return 'deferred';
  }
  if (o.status !== null) return null;
  const code = /^([A-Z][A-Z0-9_]{2,40}|AbortError|TimeoutError):/.exec(o.error)?.[1];
  if (code) return code;
  if (o.error.startsWith('connector ')) return 'connector';
  if (/^timed out after/.test(o.error)) return 'ETIMEDOUT';
  return 'error';
}

/**
 * Per route, what this settle tells the failure clock (deferrals tell nothing): `ok` when an attempt
 * succeeded, and `failFrom`, the first failed attempt after the last success (null: none failed after it).
 */
export function healthRows(
  pairs: Array<{ event: ClaimedEvent; outcome: CalloutOutcome }>,
  now = Date.now(),
): HealthRows {
  const by = new Map<string, { okAt: number; fails: number[] }>();
  for (const { event, outcome: o } of pairs) {
    if (o.kind === 'deferred') continue;
    let h = by.get(event.route);
    if (!h) by.set(event.route, (h = { okAt: -1, fails: [] }));
    const at = o.startedAt ?? now;
    if (o.kind === 'success') h.okAt = Math.max(h.okAt, at);
    else h.fails.push(at);
  }
  const out: HealthRows = { routes: [], ok: [], failFrom: [] };
  for (const [route, h] of by) {
    const after = h.fails.filter((t) => t > h.okAt);
    out.routes.push(route);
    out.ok.push(h.okAt >= 0);
    out.failFrom.push(after.length ? new Date(Math.min(...after)) : null);
  }
  return out;
}
