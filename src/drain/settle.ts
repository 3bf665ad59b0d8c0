import type { RouteConfig } from '../config/route-schema';
import type { CalloutOutcome } from '../callout/outcome';
import type { Failure } from '../db/queue/settle-rows';
import type { ClaimedEvent } from '../db/queue/types';
import { backoffMs } from './backoff';

export interface Settlement {
  done: { ids: string[]; statuses: number[] };
  failures: Failure[];
  counts: { delivered: number; retried: number; dead: number; deferred: number };
}

/**
 * Turns outcomes into queue updates: done, retry after backoff, defer (attempt refunded) or dead letter.
 * `routeOf` gives a row's route config (its retry policy); undefined: the route is gone, a failure is final.
 */
export function settle(
  pairs: ReadonlyArray<{ event: ClaimedEvent; outcome: CalloutOutcome }>,
  routeOf: (name: string) => RouteConfig | undefined,
  now = Date.now(),
): Settlement {
  const s: Settlement = {
    done: { ids: [], statuses: [] },
    failures: [],
    counts: { delivered: 0, retried: 0, dead: 0, deferred: 0 },
  };
  for (const { event, outcome } of pairs) {
    switch (outcome.kind) {
      case 'success':
        s.done.ids.push(event.id);
        s.done.statuses.push(outcome.status);
        s.counts.delivered++;
        break;
      case 'deferred':
        s.failures.push({
          id: event.id,
          dead: false,
          runAt: outcome.retryAt,
          error: outcome.error,
          status: null,
          response: null,
          refundAttempt: true,
        });
        s.counts.deferred++;
        break;
      case 'permanent':
        s.failures.push(deadLetter(event, outcome.error, outcome.status, outcome.response, now));
        s.counts.dead++;
        break;
      case 'retriable': {
        const route = routeOf(event.route);
        const maxAttempts = route?.retry.maxAttempts ?? 1;
        if (!route || event.attempts >= maxAttempts) {
          s.failures.push(deadLetter(event, outcome.error, outcome.status, outcome.response, now));
          s.counts.dead++;
        } else {
          const delay = backoffMs(event.attempts, route.retry, outcome.retryAfterMs);
          s.failures.push({
            id: event.id,
            dead: false,
            runAt: new Date(now + delay),
            error: outcome.error,
            status: outcome.status,
            response: outcome.response ?? null,
          });
          s.counts.retried++;
        }
        break;
      }
    }
  }
  return s;
}

function deadLetter(
  event: ClaimedEvent,
  error: string,
  status: number | null,
  response: string | undefined,
  now: number,
): Failure {
  return { id: event.id, dead: true, runAt: new Date(now), error, status, response: response ?? null };
}
