import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { startBroker, type RunningBroker } from '../../src/infra/kafka/broker';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/infra/embedded-postgres';
import { freePort } from '../helpers/ports';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Postgres server URL without a database; each test file creates its own database on it. */
    pgServerUrl: string;
    kafkaBrokers: string[];
  }
}

/** Strips the database name: postgres://u@h:p/db -> postgres://u@h:p */
export function serverUrlOf(url: string): string {
  const u = new URL(url);
  u.pathname = '';
  return u.toString().replace(/\/$/, '');
}

/**
 * DATABASE_URL (CI points it at the machine's server) or an embedded Postgres; KAFKA_BROKERS or a
 * fresh local broker on free ports. Both are real servers.
 */
export default async function setup(project: TestProject) {
  // Tests that run bin/sluice.js run the compiled dist/: build it from the current sources first (incremental).
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const home = resolve('.sluice');
  mkdirSync(home, { recursive: true });
  let pg: EmbeddedPg | null = null;
  let broker: RunningBroker | null = null;

  const pgServerUrl = process.env.DATABASE_URL
    ? serverUrlOf(process.env.DATABASE_URL)
    : (pg = await startEmbeddedPostgres(join(home, 'test'), await freePort())).serverUrl;

  let kafkaBrokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (kafkaBrokers.length === 0) {
    const port = await freePort();
    broker = await startBroker({
      home: join(home, `test-kafka-${port}`),
      port,
      controllerPort: await freePort(),
      fresh: true,
      heapMb: 384,
    });
    kafkaBrokers = broker.brokers;
    console.log(`[global-setup] Kafka broker ready at ${kafkaBrokers[0]} in ${broker.readyMs} ms`);
  }
  project.provide('pgServerUrl', pgServerUrl);
  project.provide('kafkaBrokers', kafkaBrokers);

  return async () => {
    await broker?.stop();
    await pg?.stop();
  };
}
