import { join } from 'node:path';
import type { Env } from '../config/env';
import { ensureDatabase, startEmbeddedPostgres } from '../infra/embedded-postgres';
import { hasJavaAndMaven, startBroker, type RunningBroker } from '../../scripts/kafka/broker';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

export const EMBEDDED_PG_PASSWORD = 'sluice-embedded';

/** The database URL: DATABASE_URL, or the embedded server (started here when `start` is true). */
export async function resolveDatabase(
  env: Env,
  log: Log,
  start: boolean,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop: async () => undefined };
  const serverUrl = `postgres://postgres:${EMBEDDED_PG_PASSWORD}@127.0.0.1:${env.SLUICE_PG_PORT}`;
  if (!start) return { url: `${serverUrl}/sluice`, stop: async () => undefined };
  log.info(
    { dir: join(env.SLUICE_HOME, 'pg'), port: env.SLUICE_PG_PORT },
    'DATABASE_URL unset: starting embedded Postgres',
  );
  const pg = await startEmbeddedPostgres(env.SLUICE_HOME, env.SLUICE_PG_PORT);
  const url = await ensureDatabase(pg.serverUrl, 'sluice');
  return { url, stop: () => pg.stop() };
}

/** Kafka brokers: KAFKA_BROKERS, or a local broker from Maven Central jars, or none (the Kafka leg off). */
export async function resolveKafka(
  env: Env,
  log: Log,
): Promise<{ brokers: string[] | null; broker?: RunningBroker }> {
  if (env.KAFKA_BROKERS.length > 0) return { brokers: env.KAFKA_BROKERS };
  if (env.SLUICE_LOCAL_KAFKA === 'off' || !hasJavaAndMaven()) {
    log.warn(
      {},
      'KAFKA_BROKERS unset and no local broker (java/mvn missing or SLUICE_LOCAL_KAFKA=off): the Kafka leg is OFF; changes are queued and delivered but not published',
    );
    return { brokers: null };
  }
  log.info(
    { port: env.SLUICE_KAFKA_PORT },
    'KAFKA_BROKERS unset: starting the local Kafka broker (first run fetches its jars)',
  );
  const broker = await startBroker({ home: join(env.SLUICE_HOME, 'kafka'), port: env.SLUICE_KAFKA_PORT });
  log.info({ brokers: broker.brokers, readyMs: broker.readyMs }, 'local Kafka broker ready');
  return { brokers: broker.brokers, broker };
}
