import type { MigrationInterface, QueryRunner } from 'typeorm';
import { sluiceSchema } from '../schema-name';

/**
 * A schema of its own. Sluice up to 0013 created its objects in the migrating session's schema (usually
 * `public`, next to the user's tables); they now live in SLUICE_SCHEMA. On an install made before this
 * migration, the runner (src/db/migrate.ts) has already moved the migrations table and put that old
 * schema second on the session's search_path (so 0007 and 0010-0013 found the old tables and created
 * their new objects in the new schema); this moves, in place and in the same transaction, every object
 * of Sluice still there: the tables by their known names (event_log, event_queue, sluice_*) with their
 * rows, indexes, constraints and owned sequences, and any function, sequence, view or type named sluice_*.
 * The capture trigger functions name the journal with the old schema ("public"."sluice_capture_batch"):
 * their bodies are rewritten to the new one, so a captured table's writes never fail between the
 * migration and the next start (the triggers themselves point at the functions by oid and stay). A
 * function that exists in both schemas was redefined by a migration of this run: the new copy wins.
 * Functions that pin a search_path get the new schema, and roles granted rights on the moved objects get
 * USAGE on it (they had it on public). On a fresh install it changes nothing.
 */
const ownSchemaSql = (target: string) => `
DO $do$
DECLARE
  target text := ${quoteLiteral(target)};
  old text;
  r record;
  fn_old text;
  fn_new text;
BEGIN
  FOR old IN SELECT s FROM unnest(current_schemas(false)) AS s WHERE s <> target LOOP
    -- Tables and views first: an owned sequence moves with its table (it cannot be moved alone).
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = old AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                AND (c.relname IN ('event_log', 'event_queue') OR c.relname LIKE 'sluice\\_%')
                AND NOT c.relispartition
    LOOP
      EXECUTE format('ALTER %s %I.%I SET SCHEMA %I',
                     CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                    WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                     old, r.relname, target);
    END LOOP;
    FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = old AND c.relkind = 'S' AND c.relname LIKE 'sluice\\_%'
                AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                   AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
    LOOP
      EXECUTE format('ALTER SEQUENCE %I.%I SET SCHEMA %I', old, r.relname, target);
    END LOOP;
    FOR r IN SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = old AND t.typname LIKE 'sluice\\_%' AND t.typtype IN ('c', 'd', 'e', 'r')
                AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
    LOOP
      EXECUTE format('ALTER %s %I.%I SET SCHEMA %I', CASE WHEN r.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                     old, r.typname, target);
    END LOOP;
    FOR r IN SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
                    EXISTS (SELECT 1 FROM pg_proc q JOIN pg_namespace qn ON qn.oid = q.pronamespace
                             WHERE qn.nspname = target AND q.proname = p.proname
                               AND pg_get_function_identity_arguments(q.oid) = pg_get_function_identity_arguments(p.oid)) AS redefined
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = old AND p.proname LIKE 'sluice\\_%'
    LOOP
      IF r.redefined THEN
        EXECUTE format('DROP ROUTINE %I.%I(%s)', old, r.proname, r.args);
      ELSE
        EXECUTE format('ALTER ROUTINE %I.%I(%s) SET SCHEMA %I', old, r.proname, r.args, target);
      END IF;
    END LOOP;
    -- Bodies that name Sluice's objects with the old schema, as the generated capture SQL does (always
    -- double-quoted; version 1 left the table name bare).
    fn_old := '"' || replace(old, '"', '""') || '".';
    fn_new := '"' || replace(target, '"', '""') || '".';
    FOR r IN SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = target AND p.proname LIKE 'sluice\\_%' AND p.prokind = 'f'
                AND (strpos(p.prosrc, fn_old || '"sluice_') > 0 OR strpos(p.prosrc, fn_old || 'sluice_') > 0)
    LOOP
      EXECUTE replace(replace(pg_get_functiondef(r.oid), fn_old || '"sluice_', fn_new || '"sluice_'),
                      fn_old || 'sluice_', fn_new || 'sluice_');
    END LOOP;
  END LOOP;
  -- Roles granted rights on Sluice's objects (a writer of captured tables needs INSERT on the journal) had
  -- USAGE on public; they keep reaching them.
  FOR r IN SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) AS a
            WHERE c.relnamespace = to_regnamespace(quote_ident(target)) AND a.grantee <> c.relowner
  LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', target,
                   CASE WHEN r.grantee = 0 THEN 'PUBLIC' ELSE r.grantee::regrole::text END);
  END LOOP;
  -- search_path FROM CURRENT pinned the migrating session's path (the old schema): pin the new one.
  FOR r IN SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = target
              AND EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\\_path=%')
  LOOP
    EXECUTE format('ALTER ROUTINE %I.%I(%s) SET search_path = %I', target, r.proname, r.args, target);
  END LOOP;
  -- Migrations after this one in the same run see Sluice's schema alone.
  PERFORM set_config('search_path', quote_ident(target), true);
END
$do$`;

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export class OwnSchema1000000000014 implements MigrationInterface {
  name = 'OwnSchema1000000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.query(ownSchemaSql(sluiceSchema()));
  }

  /** Nothing to undo: the earlier migrations' down() find the objects through search_path wherever they are. */
  async down(): Promise<void> {}
}
