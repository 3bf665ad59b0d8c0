import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The route registry: every route's full validated config (what the route file or the API gave), its
 * pause state, and one version number that every change bumps in its own transaction. Instances poll
 * the version (one row) and reload only when it moved. sluice_route stays the enqueue function's mirror.
 */
export class RouteRegistry1000000000012 implements MigrationInterface {
  name = 'RouteRegistry1000000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sluice_route_config (
        name        text PRIMARY KEY,
        config      jsonb NOT NULL,
        -- 'file': seeded from the route file (removing it from the file deletes it); 'api': made by API/CLI.
        origin      text NOT NULL CHECK (origin IN ('file', 'api')),
        -- Hash of the file's entry last applied: a start or reload applies a file entry only when it changed.
        file_hash   text,
        paused      boolean NOT NULL DEFAULT false,
        paused_at   timestamptz,
        paused_by   text,
        updated_by  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE sluice_route_version (
        id       boolean PRIMARY KEY DEFAULT true CHECK (id),
        version  bigint NOT NULL DEFAULT 0
      );
      INSERT INTO sluice_route_version DEFAULT VALUES;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS sluice_route_config, sluice_route_version;`);
  }
}
