import { randomUUID } from 'node:crypto';
import { ALERT_ENTITY } from '../../connectors/slack';
import type { AlertKind, AlertsConfig } from '../config/route-schema';
import type { RouteCaller } from './route-caller';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

const ICON: Record<AlertKind, string> = {
  'breaker-open': ':rotating_light:',
  'dead-letter': ':skull:',
  'slow-batch': ':turtle:',
  'drain-stalled': ':rotating_light:',
  'route-disabled': ':no_entry:',
};

/** What an alert is about; `route` (when given) also scopes the repeat window. */
export interface AlertDetails {
  route?: string;
  /** One-line summary; the rest of the details are appended as `key=value`. */
  summary: string;
  [key: string]: unknown;
}

/**
 * Posts operational alerts through the configured slack route (its breaker, timeout and rate limit
 * apply). Best effort and not queued: an alert that cannot be posted is logged, never retried, so a
 * Slack outage cannot hold up deliveries. The same alert (kind + route) goes out at most once per
 * `minIntervalMs`; the next one says how many were held back.
 */
export class AlertNotifier {
  private readonly last = new Map<string, { at: number; held: number }>();
  private readonly pending = new Set<Promise<void>>();
  sent = 0;

  constructor(
    private readonly cfg: AlertsConfig | undefined,
    private readonly caller: RouteCaller | undefined,
    private readonly log: Log,
  ) {}

  /** Fire and forget; `flush()` waits for posts in flight. */
  notify(kind: AlertKind, details: AlertDetails): void {
    const { summary, ...rest } = details;
    this.log.warn({ alert: kind, ...rest }, `alert: ${summary}`);
    if (!this.cfg || !this.caller || !this.cfg.kinds.includes(kind)) return;
    // An alert about the alert route itself could not get through it anyway.
    if (kind === 'breaker-open' && details.route === this.cfg.route) return;
    const key = `${kind}:${details.route ?? ''}`;
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.cfg.minIntervalMs) {
      seen.held++;
      return;
    }
    this.last.set(key, { at: now, held: 0 });
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    const heldNote = seen?.held ? ` (+${seen.held} similar since the last alert)` : '';
    const text = `${ICON[kind]} Sluice ${kind}: ${summary}${heldNote}${extra ? `\n${extra}` : ''}`;
    const p = this.post(kind, text, details).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async post(kind: AlertKind, text: string, details: AlertDetails): Promise<void> {
    const [outcome] = await this.caller!.deliver([
      {
        eventId: randomUUID(),
        route: this.caller!.route.name,
        entity: ALERT_ENTITY,
        recordId: kind,
        op: 'insert',
        source: 'sluice',
        occurredAt: new Date(),
        payload: { kind, text, details },
        attempts: 1,
        mergedCount: 0,
      },
    ]);
    if (outcome.kind === 'success') this.sent++;
    else this.log.warn({ alert: kind, outcome }, 'alert could not be posted');
  }
}
