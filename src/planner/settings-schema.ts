import { z } from 'zod';

/** The planner's shared settings: one row in the database, so every instance plans with the same numbers. */
export const SettingValuesSchema = z.object({
  /** Runs active at once across every instance. */
  maxActive: z.number().int().min(1).max(1000),
  /** How far ahead slot reservation looks for fixed starts; 0 turns reservation off. */
  reserveHorizonMinutes: z.number().int().min(0).max(10_080),
  /** Expected run time of a process with no successful run yet. */
  defaultRunMinutes: z.number().int().min(1).max(1440),
});
export type SettingValues = z.infer<typeof SettingValuesSchema>;

/** A change through the API or CLI: any of the fields, at least one. */
export const SettingsPatchSchema = SettingValuesSchema.partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'name at least one setting to change' });

export const SettingsViewSchema = SettingValuesSchema.extend({
  /** Who made the last change: `config` (an instance's environment at start), `api` or `cli`. */
  updatedBy: z.string(),
  updatedAt: z.string(),
  /** The values the configuration last applied (the precedence rule compares against these). */
  config: SettingValuesSchema.partial(),
});
export type SettingsView = z.infer<typeof SettingsViewSchema>;
