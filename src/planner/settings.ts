import type { Pool } from 'pg';
import { inTransaction, rows, type Queryable } from '../db/pool';
import { PLANNER_CHANNEL } from './runs';
// The reads and writes only; the schemas are in settings-schema.ts, so `sluice status` loads no zod.
import type { SettingsView, SettingValues } from './settings-schema';

type Key = keyof SettingValues;

const COLUMN: Record<Key, string> = {
  maxActive: 'max_active',
  reserveHorizonMinutes: 'reserve_horizon_minutes',
  defaultRunMinutes: 'default_run_minutes',
};
const KEYS = Object.keys(COLUMN) as Key[];
/** The environment variable behind each setting (for messages). */
export const SETTING_ENV: Record<Key, string> = {
  maxActive: 'SLUICE_MAX_ACTIVE',
  reserveHorizonMinutes: 'SLUICE_RESERVE_HORIZON_MINUTES',
  defaultRunMinutes: 'SLUICE_DEFAULT_RUN_MINUTES',
};

interface Row {
  max_active: number;
  reserve_horizon_minutes: number;
  default_run_minutes: number;
  config: Partial<SettingValues>;
  updated_by: string;
  updated_at: Date;
}

const view = (r: Row): SettingsView => ({
  maxActive: r.max_active,
  reserveHorizonMinutes: r.reserve_horizon_minutes,
  defaultRunMinutes: r.default_run_minutes,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
  config: r.config,
});

export async function readSettings(db: Queryable, lock = false): Promise<SettingsView> {
  const [r] = await rows<Row>(db, `SELECT * FROM sluice_planner_settings${lock ? ' FOR UPDATE' : ''}`);
  return view(r);
}

/** A change through the API or CLI: applies at every instance's next pass (they are woken at once). */
export async function updateSettings(
  pool: Pool,
  patch: Partial<SettingValues>,
  by: 'api' | 'cli',
): Promise<SettingsView> {
  const keys = KEYS.filter((k) => patch[k] !== undefined);
  return inTransaction(pool, async (c) => {
    const [r] = await rows<Row>(
      c,
      `UPDATE sluice_planner_settings SET ${keys.map((k, i) => `${COLUMN[k]} = $${i + 2}`).join(', ')},
              updated_by = $1, updated_at = now() RETURNING *`,
      [by, ...keys.map((k) => patch[k])],
    );
    await c.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'settings')`);
    return view(r);
  });
}

/**
 * The configuration's part, at an instance's start. A value set in the environment is written to the
 * database only if it differs from the value the configuration last wrote there: a changed environment
 * is the newest decision and wins, while a restart with the same environment keeps whatever the API set
 * since. A value not set in the environment never overrides anything (a fresh database has the defaults).
 */
export async function applyConfig(
  pool: Pool,
  config: Partial<SettingValues>,
  instance: string,
): Promise<{ applied: { key: Key; value: number; was: number; wasBy: string }[]; kept: SettingsView }> {
  return inTransaction(pool, async (c) => {
    const before = await readSettings(c, true);
    const changed = KEYS.filter((k) => config[k] !== undefined && before.config[k] !== config[k]);
    if (!changed.length) return { applied: [], kept: before };
    const next = { ...before.config };
    for (const k of changed) next[k] = config[k];
    await c.query(
      `UPDATE sluice_planner_settings SET ${changed.map((k, i) => `${COLUMN[k]} = $${i + 3}`).join(', ')},
              config = $1, updated_by = $2, updated_at = now()`,
      [next, `config (${instance})`, ...changed.map((k) => config[k])],
    );
    await c.query(`SELECT pg_notify('${PLANNER_CHANNEL}', 'settings')`);
    return {
      applied: changed.map((k) => ({ key: k, value: config[k]!, was: before[k], wasBy: before.updatedBy })),
      kept: before,
    };
  });
}
