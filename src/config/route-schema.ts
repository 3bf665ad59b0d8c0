import { z } from 'zod';
import { parseDuration } from '../lib/duration';
import { canonicalZone } from '../lib/time-zone';
import { NAME_PATTERN, OPS } from './names';
import { checkSigning, SchemeSchema, SecretsSchema, type SigningSecrets } from './signing';
import { BoundedWhereSchema } from './where-schema';

export { OPS };
export const OpSchema = z.enum(OPS);
export type Op = z.infer<typeof OpSchema>;

/** Names that end up in SQL, URLs and metric labels: kept to a safe alphabet. */
export const NameSchema = z
  .string()
  .regex(NAME_PATTERN, 'must be 1-64 chars of letters, digits, "_", "." or "-"');

export const EntitySchema = z
  .string()
  .regex(/^(\*|[A-Za-z0-9][A-Za-z0-9_.:-]{0,127})$/, 'must be "*" or 1-128 chars of letters, digits, "_.:-"');

export const BreakerSchema = z
  .object({
    /** Per-request timeout of the callout, ms. */
    timeoutMs: z.number().int().min(10).max(600_000).default(10_000),
    /** Failure percentage over the rolling window that opens the breaker. */
    errorThresholdPercentage: z.number().min(1).max(100).default(50),
    /** How long the breaker stays open before letting a probe through, ms. */
    resetTimeoutMs: z.number().int().min(10).max(3_600_000).default(30_000),
    /** Minimum requests in the window before the breaker may open. */
    volumeThreshold: z.number().int().min(1).max(10_000).default(10),
    /** Rolling statistics window, ms. */
    rollingCountTimeoutMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /** Requests let through to the endpoint each time the breaker goes half-open; the first success closes it. */
    halfOpenProbes: z.number().int().min(1).max(100).default(1),
  })
  .strict();

export const RetrySchema = z
  .object({
    /** Attempts before a row becomes a dead letter. */
    maxAttempts: z.number().int().min(1).max(100).default(10),
    /** First backoff, ms; doubles each attempt, with full jitter. */
    baseMs: z.number().int().min(1).max(3_600_000).default(1_000),
    /** Backoff cap, ms. */
    maxMs: z.number().int().min(1).max(86_400_000).default(300_000),
  })
  .strict();

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const ClockSchema = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM (00:00-24:00)');

/** When a route may be called: local ranges per weekday; `to` before `from` runs past midnight. */
export const WindowSchema = z
  .object({
    timeZone: z
      .string()
      .refine((s) => canonicalZone(s) !== null, 'must be an IANA time zone, e.g. UTC or Europe/Paris'),
    ranges: z
      .array(
        z
          .object({ days: z.array(z.enum(WEEKDAYS)).min(1), from: ClockSchema, to: ClockSchema })
          .strict()
          .refine((r) => r.from !== r.to, { message: 'from and to must differ', path: ['to'] }),
      )
      .min(1),
  })
  .strict();
export type DeliveryWindow = z.infer<typeof WindowSchema>;

export const DisableAfterSchema = z.union([
  z.literal('off'),
  z
    .number()
    .int()
    .min(1000)
    .max(365 * 86_400_000),
  z.string().refine((v) => {
    const ms = parseDuration(v);
    return ms !== null && ms >= 1000 && ms <= 365 * 86_400_000;
  }, 'must be a duration from 1s to 365d (e.g. "24h", "90m", "5d") or "off"'),
]);

/** A route's `disableAfter` in ms, the default (24 h) when absent; null: never auto-disabled. */
export function disableAfterMs(route: Pick<RouteConfig, 'disableAfter'>): number | null {
  const v = route.disableAfter ?? '24h';
  if (v === 'off') return null;
  return typeof v === 'number' ? v : parseDuration(v);
}

export const RouteSchema = z
  .object({
    name: NameSchema,
    match: z
      .object({
        entity: EntitySchema,
        ops: z.array(OpSchema).min(1).optional(),
        /** Conditions on the payload: rows that don't meet them are never queued for this route. */
        where: BoundedWhereSchema.optional(),
      })
      .strict(),
    connector: NameSchema,
    options: z.record(z.string(), z.unknown()).default({}),
    /** Concurrent callouts of this route. */
    concurrency: z.number().int().min(1).max(1024).default(16),
    rateLimit: z
      .object({ perSecond: z.number().positive().max(1_000_000) })
      .strict()
      .optional(),
    breaker: BreakerSchema.default(BreakerSchema.parse({})),
    retry: RetrySchema.default(RetrySchema.parse({})),
    /** Events per request for connectors that batch. */
    batchSize: z.number().int().min(1).max(10_000).optional(),
    /**
     * `live` (default): this route's rows go before backfill rows in every claim. `bulk`: all of its rows
     * count as bulk work, taken after every live row of the other routes.
     */
    priority: z.enum(['live', 'bulk']).default('live'),
    /** Merge a newer change into a waiting one for the same record. */
    coalesce: z.boolean().default(true),
    enabled: z.boolean().default(true),
    /** Delivery window: outside it the route's rows (retries included) wait, no attempt spent. */
    window: WindowSchema.optional(),
    /**
     * Auto-disable: every attempt failed for this long (`24h`, `90m`, `2s`, `5d`, or ms) -> the route is
     * paused and an alert goes out; `off` never. Absent: 24 h (see disableAfterMs).
     */
    disableAfter: DisableAfterSchema.optional(),
  })
  .strict();
export type RouteConfig = z.infer<typeof RouteSchema>;

/**
 * An incoming webhook source: its secret (two during a rotation: either verifies) and its scheme,
 * `standard` (Standard Webhooks) or `sluice` (X-Sluice-Signature); absent: by the secret (signing.ts).
 */
export const WebhookSourceSchema = z
  .object({ secret: SecretsSchema, scheme: SchemeSchema.optional() })
  .strict()
  .transform(({ secret, scheme }, ctx): SigningSecrets => checkSigning(scheme, secret, ctx, 'scheme'));

export const ALERT_KINDS = [
  'breaker-open',
  'dead-letter',
  'slow-batch',
  'drain-stalled',
  'route-disabled',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Operational alerts (breaker opened, dead letters, slow batches), posted through a `slack` route. */
export const AlertsSchema = z
  .object({
    /** Name of a route with connector `slack`; its breaker, rate limit and timeout apply to alerts too. */
    route: NameSchema,
    /** Which kinds to send (default: all). */
    kinds: z
      .array(z.enum(ALERT_KINDS))
      .min(1)
      .default([...ALERT_KINDS]),
    /** The same alert (kind + subject) is sent at most once per this window, ms. */
    minIntervalMs: z.number().int().min(0).max(86_400_000).default(60_000),
  })
  .strict();
export type AlertsConfig = z.infer<typeof AlertsSchema>;

/** What backfills may read: globs over `schema.table`; empty: the CLI any user table, processes none. */
export const BackfillConfigSchema = z
  .object({
    tables: z
      .array(
        z
          .string()
          .regex(/^[^.\s]+\.[^.\s]+$/, 'must be a glob over schema.table, e.g. "public.*" or "crm.accounts"'),
      )
      .default([]),
  })
  .strict();

export const ConfigFileSchema = z
  .object({
    routes: z.array(RouteSchema).default([]),
    webhooks: z.record(NameSchema, WebhookSourceSchema).default({}),
    alerts: AlertsSchema.optional(),
    backfill: BackfillConfigSchema.default({ tables: [] }),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.routes.forEach((r, i) => {
      if (seen.has(r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'name'],
          message: `duplicate route name "${r.name}"`,
        });
      }
      seen.add(r.name);
    });
    if (cfg.alerts) {
      const target = cfg.routes.find((r) => r.name === cfg.alerts!.route);
      if (!target) {
        ctx.addIssue({
          code: 'custom',
          path: ['alerts', 'route'],
          message: `no route named "${cfg.alerts.route}"`,
        });
      } else if (target.connector !== 'slack') {
        ctx.addIssue({
          code: 'custom',
          path: ['alerts', 'route'],
          message: `route "${target.name}" must use the slack connector (it uses "${target.connector}")`,
        });
      }
    }
  });
export type ConfigFile = z.infer<typeof ConfigFileSchema>;
