import { rows, type Queryable } from '../pool';

export interface StoredRoute {
  name: string;
  /** The validated route config as stored (defaults filled in). */
  config: unknown;
  /** 'file': seeded from the route file; 'api': made through the API or the CLI. */
  origin: 'file' | 'api';
  /** Hash of the route file's entry last applied (null for API routes). */
  fileHash: string | null;
  paused: boolean;
  pausedAt: Date | null;
  pausedBy: string | null;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  name: string;
  config: unknown;
  origin: 'file' | 'api';
  file_hash: string | null;
  paused: boolean;
  paused_at: Date | null;
  paused_by: string | null;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

/** The registry's version: every route change bumps it; an instance reloads when it moved. */
export async function routeVersion(db: Queryable): Promise<string> {
  const [r] = await rows<{ version: string }>(db, 'SELECT version FROM sluice_route_version');
  return r?.version ?? '0';
}

/** Every stored route, by name; `name` alone when given. */
export async function listStoredRoutes(db: Queryable, name?: string): Promise<StoredRoute[]> {
  const result = await rows<Row>(
    db,
    `SELECT name, config, origin, file_hash, paused, paused_at, paused_by, updated_by, created_at, updated_at
       FROM sluice_route_config WHERE $1::text IS NULL OR name = $1 ORDER BY name`,
    [name ?? null],
  );
  return result.map((r) => ({
    name: r.name,
    config: r.config,
    origin: r.origin,
    fileHash: r.file_hash,
    paused: r.paused,
    pausedAt: r.paused_at,
    pausedBy: r.paused_by,
    updatedBy: r.updated_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

/** Rows of `route` still to deliver: waiting (pending) and in a callout now (running). */
export async function queuedOf(db: Queryable, route: string): Promise<{ pending: number; running: number }> {
  const [r] = await rows<{ pending: number; running: number }>(
    db,
    `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
            count(*) FILTER (WHERE state = 'running')::int AS running
       FROM event_queue WHERE route = $1 AND state IN ('pending', 'running')`,
    [route],
  );
  return r;
}
