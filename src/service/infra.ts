import { join } from 'node:path';
import { databaseUrlOf } from '../config/database-url';
import type { Env } from '../config/env';
import type { Component } from '../lib/lifecycle';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedPg } from '../infra/embedded-postgres';
import { hasJavaAndMaven, startBroker, type RunningBroker } from '../infra/kafka/broker';
import { kafkaJarsCached } from '../infra/kafka/jars';

type Log = { info(o: object, m: string): void; warn(o: object, m: string): void };

export interface DatabaseServer extends Component {
  url: string;
  embedded: boolean;
}

/** DATABASE_URL's server (nothing to start), or the embedded Postgres under SLUICE_HOME, started and stopped here. */
export function databaseServer(env: Env, log: Log): DatabaseServer {
  const { url, embedded } = databaseUrlOf(env);
  let pg: EmbeddedPg | null = null;
  return {
    url,
    embedded,
    async start(signal) {
      if (!embedded) return;
      log.info(
        { dir: join(env.SLUICE_HOME, 'pg'), port: env.SLUICE_PG_PORT },
        'DATABASE_URL unset: starting embedded Postgres',
      );
      pg = await startEmbeddedPostgres(env.SLUICE_HOME, env.SLUICE_PG_PORT, { signal, detached: true, log });
      await ensureDatabase(pg.serverUrl, 'sluice');
    },
    async stop() {
      await pg?.stop();
    },
  };
}

export interface KafkaBrokers extends Component {
  /** null: the Kafka leg is off. Known once started. */
  brokers: string[] | null;
}

/** KAFKA_BROKERS (nothing to start), or a local broker from Maven Central jars, or none (the Kafka leg off). */
export function kafkaBrokers(env: Env, log: Log): KafkaBrokers {
  let broker: RunningBroker | null = null;
  const self: KafkaBrokers = {
    brokers: env.KAFKA_BROKERS.length > 0 ? env.KAFKA_BROKERS : null,
    async start(signal) {
      if (self.brokers) return;
      if (env.SLUICE_LOCAL_KAFKA === 'off' || !hasJavaAndMaven()) {
        log.warn(
          {},
          'KAFKA_BROKERS unset and no local broker (java/mvn missing or SLUICE_LOCAL_KAFKA=off): the Kafka leg is OFF; changes are queued and delivered but not published',
        );
        return;
      }
      const fetching = !kafkaJarsCached(join(env.SLUICE_HOME, 'kafka-jars'));
      log.info(
        { port: env.SLUICE_KAFKA_PORT, dir: join(env.SLUICE_HOME, 'kafka') },
        `KAFKA_BROKERS unset: starting the local Kafka broker${fetching ? ' (fetching its jars from Maven Central first, once)' : ''}`,
      );
      broker = await startBroker({
        home: join(env.SLUICE_HOME, 'kafka'),
        port: env.SLUICE_KAFKA_PORT,
        detached: true,
        signal,
        log,
      });
      log.info({ brokers: broker.brokers, readyMs: broker.readyMs }, 'local Kafka broker ready');
      self.brokers = broker.brokers;
    },
    async stop() {
      await broker?.stop();
    },
  };
  return self;
}
