import type { QueryRunner } from 'typeorm';
import { OwnSchema1000000000014 } from './migrations/0014-own-schema';

const SCHEMA_MIGRATION = new OwnSchema1000000000014().name;

/**
 * Run by the migration runner inside its transaction, before TypeORM looks for its migrations table:
 * creates Sluice's schema, and when it holds no migrations table yet but an install made before Sluice had
 * a schema of its own exists (a sluice_migrations table elsewhere without the own-schema migration), moves
 * that table in and puts the old schema second on the session's search_path, so the pending migrations
 * find the old objects and 0014 moves them. Another schema's install that already has 0014 is another
 * Sluice (another SLUICE_SCHEMA) and is left alone. Returns the old schema, if any.
 */
export async function prepareSchema(q: QueryRunner, schema: string): Promise<string | null> {
  const has = await q.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE right even when the schema exists.
  if (!has.length) await q.query(`CREATE SCHEMA ${schema}`);
  const own = await q.query(
    `SELECT to_regclass(format('%I.sluice_migrations', $1::text)) IS NOT NULL AS ok`,
    [schema],
  );
  let legacy: string | null = null;
  if (!own[0].ok) {
    const found: Array<{ schema: string }> = await q.query(
      `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = 'sluice_migrations' AND c.relkind = 'r' AND n.nspname <> $1 ORDER BY 1`,
      [schema],
    );
    const old: string[] = [];
    for (const f of found) {
      const done = await q.query(`SELECT 1 FROM ${ident(f.schema)}.sluice_migrations WHERE name = $1`, [
        SCHEMA_MIGRATION,
      ]);
      if (!done.length) old.push(f.schema);
    }
    if (old.length > 1)
      throw new Error(
        `found installs of an older Sluice in schemas ${old.join(', ')}: cannot tell which one to move into ${schema}`,
      );
    legacy = old[0] ?? null;
    if (legacy) await q.query(`ALTER TABLE ${ident(legacy)}.sluice_migrations SET SCHEMA ${schema}`);
  }
  await q.query(`SELECT set_config('search_path', $1, true)`, [
    legacy ? `${ident(schema)}, ${ident(legacy)}` : ident(schema),
  ]);
  return legacy;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
