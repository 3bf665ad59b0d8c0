import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { EventLogRow } from './entities/event-log';
import { EventQueueRow } from './entities/event-queue';
import { migrations } from './migrations';
import { sessionOptions, sluiceSchema } from './schema-name';

export interface DataSourceOptions {
  url: string;
  /** Pool size. The drain, relay, API and planner share it. */
  poolSize?: number;
  applicationName?: string;
  /** libpq options of every session (default sessionOptions(): search_path on Sluice's schema alone). */
  options?: string;
}

export function createDataSource({
  url,
  poolSize = 10,
  applicationName = 'sluice',
  options = sessionOptions(),
}: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    // Entities and the migrations table are qualified with it; the raw SQL finds it through search_path.
    schema: sluiceSchema(),
    entities: [EventQueueRow, EventLogRow],
    migrations,
    migrationsTableName: 'sluice_migrations',
    migrationsTransactionMode: 'all',
    applicationName,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      options,
    },
  });
}
