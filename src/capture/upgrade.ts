import type { Pool } from 'pg';
import { inTransaction, rows } from '../db/pool';
import { TRIGGER_VERSION, type PayloadMode } from './trigger-sql';
import { sluiceSchema } from '../db/schema-name';
import { installFunctions, resolveSpec } from './triggers';

/** Fixed key of the advisory lock that lets one process at a time upgrade captures. */
const UPGRADE_LOCK = 7_311_520_008;

export interface CaptureUpgrade {
  upgraded: string[];
  /** Captures whose table or columns no longer resolve: they keep running their old functions. */
  failed: Array<{ table: string; error: string }>;
}

/**
 * Rewrites the functions of captures installed by an older Sluice (trigger_version below TRIGGER_VERSION),
 * so an upgrade reaches them without `capture add` being run again. Only the functions are replaced
 * (CREATE OR REPLACE takes no lock on the captured table: its writers go on, and pick up the new body at
 * their next statement); the triggers stay. Safe when several processes start at once.
 */
export async function upgradeCaptures(pool: Pool): Promise<CaptureUpgrade> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [UPGRADE_LOCK]);
    const old = await rows<{
      schema_name: string;
      table_name: string;
      entity: string;
      id_column: string;
      columns: string[] | null;
      payload: PayloadMode;
    }>(
      client,
      `SELECT schema_name, table_name, entity, id_column, columns, payload FROM sluice_capture
        WHERE trigger_version < $1 ORDER BY schema_name, table_name`,
      [TRIGGER_VERSION],
    );
    const out: CaptureUpgrade = { upgraded: [], failed: [] };
    if (!old.length) return out;
    const schema = sluiceSchema();
    for (const c of old) {
      const table = `${c.schema_name}.${c.table_name}`;
      await client.query('SAVEPOINT sluice_upgrade');
      try {
        const { spec, watched } = await resolveSpec(client, {
          schema: c.schema_name,
          table: c.table_name,
          entity: c.entity,
          idColumn: c.id_column,
          columns: c.columns,
          payload: c.payload,
        });
        await installFunctions(client, spec, watched, schema);
        await client.query(
          `UPDATE sluice_capture SET trigger_version = $3 WHERE schema_name = $1 AND table_name = $2`,
          [c.schema_name, c.table_name, TRIGGER_VERSION],
        );
        await client.query('RELEASE SAVEPOINT sluice_upgrade');
        out.upgraded.push(table);
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT sluice_upgrade');
        out.failed.push({ table, error: (err as Error).message });
      }
    }
    return out;
  });
}

/** One info line for what was upgraded, one warning per capture that could not be. */
export function logCaptureUpgrade(
  u: CaptureUpgrade,
  log: { info(o: object, m: string): void; warn(o: object, m: string): void },
): void {
  if (u.upgraded.length) log.info({ captures: u.upgraded }, 'capture triggers upgraded');
  for (const f of u.failed)
    log.warn(f, 'capture trigger not upgraded: it still runs the old version; run capture add again');
}
