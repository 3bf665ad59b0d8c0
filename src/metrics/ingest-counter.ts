import { Counter, Registry } from 'prom-client';

/**
 * Changes accepted by this process (API pushes, webhooks, CLI pushes), counted where the one enqueue
 * path returns, and trigger captures, counted by the process whose fan-out turned them into events.
 * Process-wide, like the process itself: every service registry in the process merges it.
 */
export const ingestRegistry = new Registry();

const ingested = new Counter({
  name: 'sluice_events_ingested_total',
  help: 'Changes accepted (committed) by this process, by source kind (api, webhook, ...)',
  labelNames: ['source'],
  registers: [ingestRegistry],
});

/** `api:crm` counts as `api`, `webhook:github` as `webhook`: a bounded label set. */
export function countIngested(source: string, n: number): void {
  if (n > 0) ingested.inc({ source: source.split(':')[0].slice(0, 32) }, n);
}
