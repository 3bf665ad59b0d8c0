import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/infra/kafka/broker';
import { ensureDatabase } from '../../src/infra/embedded-postgres';
import { freePort } from '../../test/helpers/ports';
import { startPrivatePostgres, type PrivatePostgres } from '../../test/helpers/private-postgres';

/**
 * The chaos run's own Postgres server and Kafka broker, so faults can stop and restart them: the
 * machine's Postgres and other runs' brokers are never touched.
 */
export interface ChaosInfra {
  pg: PrivatePostgres;
  brokers: string[];
  /** A fresh, empty database on the private server. */
  freshDatabase(name: string): Promise<string>;
  stopBroker(): Promise<void>;
  /** Starts the broker again on the same port and data (topics and messages kept). */
  startBroker(): Promise<void>;
  /** Starts the broker if a fault left it stopped, so the next fault begins with everything up. */
  ensureBroker(): Promise<void>;
  close(): Promise<void>;
}

export async function startInfra(log: (m: string) => void): Promise<ChaosInfra> {
  const pg = await startPrivatePostgres();
  const serverUrl = pg.url.replace(/\/[^/]*$/, '');
  log(`private Postgres at ${serverUrl.replace(/:[^:@/]*@/, ':***@')}`);
  const port = await freePort();
  const controllerPort = await freePort();
  const home = resolve(join('.sluice', `chaos-kafka-${port}`));
  const boot = (fresh: boolean) => startBroker({ home, port, controllerPort, fresh, heapMb: 384 });
  let broker: RunningBroker | null = await boot(true);
  log(`own Kafka broker at ${broker.brokers[0]} (ready in ${broker.readyMs} ms)`);
  let n = 0;
  return {
    pg,
    brokers: broker.brokers,
    freshDatabase: (name) => ensureDatabase(serverUrl, `chaos_${name.replace(/-/g, '_')}_${++n}`),
    stopBroker: async () => {
      await broker?.stop();
      broker = null;
    },
    startBroker: async () => {
      broker = await boot(false);
    },
    ensureBroker: async () => {
      broker ??= await boot(false);
    },
    close: async () => {
      await broker?.stop();
      await pg.close().catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
