import type { AlertNotifier } from '../callout/alerts';
import type { RouteCallerHooks } from '../callout/route-caller';
import type { Drain } from '../drain/drain';

/** Breaker openings of the callers. */
export function breakerAlerts(alerts: AlertNotifier): RouteCallerHooks['onBreakerChange'] {
  return (route, state, st) => {
    if (state !== 'open') return;
    alerts.notify('breaker-open', {
      route,
      summary: `route "${route}" stopped calling its endpoint; its rows are deferred`,
      until: st.nextAttemptAt ? new Date(st.nextAttemptAt).toISOString() : null,
      failures: st.failures,
      calls: st.calls,
    });
  };
}

/** Dead letters and slow or stopped batches of the drain. */
export function drainAlerts(drain: Drain, alerts: AlertNotifier): void {
  drain.on('deadLettered', (d) =>
    alerts.notify('dead-letter', {
      route: d.route,
      summary: `an event of route "${d.route}" became a dead letter after ${d.attempts} attempt(s)`,
      eventId: d.eventId,
      status: d.status,
      error: d.error.slice(0, 300),
    }),
  );
  drain.on('alert', (a) => {
    if (a.kind === 'stalled') {
      alerts.notify('drain-stalled', { summary: `the drain is stalled: ${a.reason}` });
      return;
    }
    alerts.notify('slow-batch', {
      summary:
        a.kind === 'batch-slow'
          ? `batch ${a.batch.id} (${a.batch.size} rows) running for ${Math.round(a.batch.ageMs / 1000)} s; ${a.batch.finished} callouts finished`
          : `batch ${a.batch.id} stopped after ${Math.round(a.stopAfterMs / 1000)} s; ${a.released} rows handed back to the queue`,
      batch: a.batch.id,
    });
  });
}
