import { z } from 'zod';
import { parseDuration } from '../lib/duration';
import { canonicalZone } from '../lib/time-zone';
import { NameSchema } from './route-schema';
import { DEFAULT_SCHEMA, schemaNameProblem } from '../db/schema-name';

const intFrom = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

const csv = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** Every environment variable Sluice reads, with its default. All are optional. */
export const EnvSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  KAFKA_BROKERS: csv,
  KAFKA_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/)
    .default('sluice.changes'),
  PORT: intFrom(8080, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  SLUICE_CONFIG: z.string().optional(),
  SLUICE_API_KEYS: csv,
  SLUICE_WEBHOOK_SECRETS: csv,
  /** Largest accepted webhook body, bytes (1 MiB). */
  SLUICE_WEBHOOK_BODY_LIMIT: intFrom(1024 * 1024, 1024, 64 * 1024 * 1024),
  /**
   * Planner settings kept in the database (see applyConfig for when these win over a value set through
   * the API). Unset: the database's value stands (a fresh one has 5 slots, a 1440-minute horizon, 10 min).
   */
  SLUICE_MAX_ACTIVE: z.coerce.number().int().min(1).max(1000).optional(),
  SLUICE_RESERVE_HORIZON_MINUTES: z.coerce.number().int().min(0).max(10_080).optional(),
  SLUICE_DEFAULT_RUN_MINUTES: z.coerce.number().int().min(1).max(1440).optional(),
  /** IANA zone of processes registered without one. */
  SLUICE_TIME_ZONE: z
    .string()
    .default('UTC')
    .refine((s) => canonicalZone(s) !== null, 'must be an IANA time zone, e.g. UTC or Europe/Paris')
    .transform((s) => canonicalZone(s)!),
  /** Planner timer pass, ms (passes also run on completions and registry changes). */
  SLUICE_PLANNER_TICK_MS: intFrom(5000, 50, 600_000),
  /** A run whose instance stopped heartbeating for this long is failed as lost, ms. */
  SLUICE_RUN_STALE_MS: intFrom(30_000, 1000, 86_400_000),
  /** Modules to load at start that call registerHandler() (user code run by the planner). */
  SLUICE_HANDLERS: csv,
  SLUICE_HOME: z.string().default('.sluice'),
  /** Embedded Postgres port when DATABASE_URL is unset. */
  SLUICE_PG_PORT: intFrom(54329, 1, 65535),
  /** `off`: never start the local broker; with KAFKA_BROKERS unset the Kafka leg is then off. */
  SLUICE_LOCAL_KAFKA: z.enum(['auto', 'off']).default('auto'),
  /** Local Kafka broker port when KAFKA_BROKERS is unset. */
  SLUICE_KAFKA_PORT: intFrom(19092, 1, 65535),
  SLUICE_BATCH_SIZE: intFrom(500, 1, 10_000),
  SLUICE_POLL_MS: intFrom(1000, 10, 600_000),
  /** How often the route file is checked for changes (reloaded when it changed), ms; 0: only on SIGHUP. */
  SLUICE_CONFIG_WATCH_MS: intFrom(2000, 0, 600_000),
  /**
   * Lease lifetime of the coordinator (relay, planner, sweeps), of each lane and of an instance heartbeat:
   * a dead instance's lanes and lead are taken over within ttl + ttl/3 (4.7 s).
   */
  SLUICE_LEADER_TTL_MS: intFrom(3500, 500, 600_000),
  /**
   * Lanes the queue is split into (each drained by one instance at a time); applied at start when no
   * other instance runs, since every instance must agree on it.
   */
  SLUICE_LANES: intFrom(32, 1, 1024),
  SLUICE_ROW_LEASE_MS: intFrom(60_000, 1000, 86_400_000),
  /** A drain batch running longer than this logs a warning and raises an alert event. */
  SLUICE_BATCH_WARN_AFTER_MS: intFrom(20 * 60_000, 1000, 7 * 86_400_000),
  /** A drain batch running longer than this hands its unfinished rows back to the queue. */
  SLUICE_BATCH_STOP_AFTER_MS: intFrom(60 * 60_000, 1000, 7 * 86_400_000),
  /**
   * The drain's watchdog: rows claimable and nothing claimed or settled for this long is a stall (an error
   * line, sluice_drain_stalled 1, /readyz 503, the stuck query cancelled); twice as long gives its lanes up.
   */
  SLUICE_STALL_AFTER_MS: intFrom(30_000, 1000, 86_400_000),
  /**
   * Every statement of the drain's own connections (claims, settles, heartbeats, recovery) is cancelled
   * by Postgres after this long, logged with its name and retried: a bad plan never hangs the loop.
   */
  SLUICE_STATEMENT_TIMEOUT_MS: intFrom(10_000, 100, 3_600_000),
  /** Rows in flight at once across batches (default: twice the batch size). */
  SLUICE_MAX_IN_FLIGHT: intFrom(0, 0, 100_000),
  /** SIGTERM: how long in-flight callouts may finish before their rows are handed back. */
  SLUICE_SHUTDOWN_GRACE_MS: intFrom(10_000, 0, 600_000),
  /** Done queue rows and published change-log rows older than this are pruned (dead letters are kept). */
  SLUICE_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(7),
  /** How often the leader prunes. */
  SLUICE_PRUNE_INTERVAL_MS: intFrom(60_000, 100, 86_400_000),
  /** `off`: attempts are not recorded in the attempt log (GET /v1/deliveries stays empty). */
  SLUICE_ATTEMPT_LOG: z.enum(['on', 'off']).default('on'),
  /** Attempt log rows older than this are pruned: a duration (`7d`, `36h`, `30m`); `0` or `off` keeps them. */
  SLUICE_ATTEMPT_RETENTION: z
    .string()
    .default('7d')
    .transform((s, ctx) => {
      if (s.trim() === 'off') return 0;
      const ms = parseDuration(s);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 7d, 36h or 30m, or off' });
        return z.NEVER;
      }
      return ms;
    }),
  SLUICE_INSTANCE: z.string().optional(),
  /** The schema every table, function and sequence of Sluice lives in (src/db/schema-name.ts reads it). */
  SLUICE_SCHEMA: z
    .string()
    .default(DEFAULT_SCHEMA)
    .superRefine((s, ctx) => {
      const problem = schemaNameProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /**
   * Operational endpoints open without an API key: any of healthz, readyz, metrics, docs (comma list;
   * `none` for none). Everything else always needs a key.
   */
  SLUICE_PUBLIC_ENDPOINTS: z
    .string()
    .default('healthz,readyz,docs')
    .transform((s) =>
      s.trim() === 'none'
        ? []
        : s
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
    )
    .pipe(z.array(z.enum(['healthz', 'readyz', 'metrics', 'docs']))),
  /** Requests per API key (webhooks: per source) per second on the ingestion endpoints; 0: no limit. */
  SLUICE_INGEST_RATE_LIMIT: intFrom(1000, 0, 1_000_000),
  /** Most pushes and webhooks written in one group commit (one statement, one commit); 1: no grouping. */
  SLUICE_INGEST_GROUP_MAX: intFrom(256, 1, 10_000),
  /**
   * Groups written at once, each on its own connection. 1: the next group gathers while one commits (bigger
   * groups, less CPU per request than 2 or 3 overlapping ones on a 2-core machine).
   */
  SLUICE_INGEST_GROUPS_IN_FLIGHT: intFrom(1, 1, 8),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `auto`: readable, coloured lines on a terminal, JSON lines otherwise. */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
});
export type Env = z.infer<typeof EnvSchema>;

/**
 * `source:secret,...` -> map; a malformed pair is a configuration error. The error names the pair by its
 * position and never repeats any of its text: a pair without its colon is all secret.
 */
export function parseWebhookSecrets(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  pairs.forEach((pair, i) => {
    const idx = pair.indexOf(':');
    const source = idx > 0 ? pair.slice(0, idx) : '';
    const secret = idx > 0 ? pair.slice(idx + 1) : '';
    const problem =
      idx <= 0
        ? 'has no "source:" before its secret'
        : !NameSchema.safeParse(source).success
          ? 'has a source name that is not 1-64 letters, digits, "_", "." or "-"'
          : secret.length < 16
            ? 'has a secret shorter than 16 chars'
            : null;
    if (problem)
      throw new Error(
        `SLUICE_WEBHOOK_SECRETS: pair ${i + 1} of ${pairs.length} ${problem} (expected source:secret,...; its text is not shown)`,
      );
    out[source] = secret;
  });
  return out;
}
