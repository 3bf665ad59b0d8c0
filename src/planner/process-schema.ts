import { z } from 'zod';
import { NameSchema } from '../config/route-schema';
import { canonicalZone } from '../lib/time-zone';

/** Schedules are printable text (the planning pass reads them from a control-character-delimited list). */
// eslint-disable-next-line no-control-regex -- the point is to refuse control characters
const PRINTABLE = /^[^\x00-\x1f\x7f]*$/;
const ScheduleText = z.string().min(1).max(200).regex(PRINTABLE, 'must not contain control characters');

/** An IANA time zone name, stored in its canonical spelling (`europe/paris` -> `Europe/Paris`). */
export const TimeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((z) => canonicalZone(z) !== null, {
    message: 'must be an IANA time zone, e.g. UTC, Europe/Paris or America/New_York',
  })
  .transform((z) => canonicalZone(z)!);

/** A process definition as the API and CLI accept it (create or replace). */
export const ProcessBodySchema = z
  .object({
    name: NameSchema,
    /** A registered handler: `backfill`, `sync`, or user code registered by name. */
    handler: NameSchema,
    /** The handler's arguments, validated by the handler. */
    params: z.record(z.string(), z.unknown()).default({}),
    kind: z.enum(['recurrent', 'single']),
    /** Recurrent only: `every 15m` (s, m, h, d), `every day at HH:MM` or a cron expression (local to timeZone). */
    schedule: ScheduleText.nullable().optional(),
    /** `HH:MM` (every day, local), a local ISO date-time, or an ISO timestamp with an offset. */
    notBefore: z.string().min(1).max(64).nullable().optional(),
    /** IANA zone of schedule, notBefore and refresh window; absent: the configured default (SLUICE_TIME_ZONE). */
    timeZone: TimeZoneSchema.optional(),
    dependsOn: z.array(NameSchema).max(100).default([]),
    /** Higher starts first within its group. */
    priority: z.number().int().min(-1_000_000).max(1_000_000).default(0),
    /** No scheduled rerun within this many minutes of the last successful run. */
    refreshWindowMinutes: z.number().int().min(0).max(525_600).default(0),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ProcessBody = z.infer<typeof ProcessBodySchema>;

/** PATCH: any field but the name. */
export const ProcessPatchSchema = z
  .object({
    handler: NameSchema,
    params: z.record(z.string(), z.unknown()),
    kind: z.enum(['recurrent', 'single']),
    schedule: ScheduleText.nullable(),
    notBefore: z.string().min(1).max(64).nullable(),
    timeZone: TimeZoneSchema,
    dependsOn: z.array(NameSchema).max(100),
    priority: z.number().int().min(-1_000_000).max(1_000_000),
    refreshWindowMinutes: z.number().int().min(0).max(525_600),
    enabled: z.boolean(),
    /** Clear (or set) the alarm by hand. */
    alarmed: z.boolean(),
  })
  .partial()
  .strict();
export type ProcessPatch = z.infer<typeof ProcessPatchSchema>;

export const RunSchema = z.object({
  id: z.string().uuid(),
  process: z.string(),
  handler: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled']),
  trigger: z.enum(['schedule', 'manual', 'registered']),
  dueAt: z.string().nullable(),
  requestedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  instance: z.string().nullable(),
  progress: z.unknown().nullable(),
  error: z.string().nullable(),
});
export type RunView = z.infer<typeof RunSchema>;

export const ProcessViewSchema = z.object({
  name: z.string(),
  handler: z.string(),
  params: z.record(z.string(), z.unknown()),
  kind: z.enum(['recurrent', 'single']),
  schedule: z.string().nullable(),
  notBefore: z.string().nullable(),
  timeZone: z.string(),
  dependsOn: z.array(z.string()),
  priority: z.number(),
  refreshWindowMinutes: z.number(),
  enabled: z.boolean(),
  alarmed: z.boolean(),
  nextDueAt: z.string().nullable(),
  /** Its recent successful runs (the last 20): what slot reservation expects of it (p90). */
  durations: z.object({ samples: z.number(), p50Ms: z.number().nullable(), p90Ms: z.number().nullable() }),
  lastRun: RunSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ProcessView = z.infer<typeof ProcessViewSchema>;

export const LogEntrySchema = z.object({
  id: z.number(),
  at: z.string(),
  instance: z.string(),
  process: z.string(),
  decision: z.string(),
  reason: z.string(),
  runId: z.string().nullable(),
});
