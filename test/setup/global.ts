import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
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
/** What a run left in its temp folder (vitest.config.mts gives each run its own), as paths. */
function leftovers(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
}

export default async function setup(project: TestProject) {
  const runTmp = process.env.SLUICE_TEST_TMP!;
  process.env.TMPDIR = runTmp;
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
  let brokerHome: string | null = null;
  if (kafkaBrokers.length === 0) {
    const port = await freePort();
    brokerHome = join(home, `test-kafka-${port}`);
    broker = await startBroker({
      home: brokerHome,
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
    if (brokerHome) rmSync(brokerHome, { recursive: true, force: true });
    await pg?.stop();
    const left = leftovers(runTmp);
    rmSync(runTmp, { recursive: true, force: true });
    // A helper that forgets its temp files fails the run (they once added up to ~330 MB per run).
    if (left.length)
      throw new Error(
        `the test run left ${left.length} entries in its temp folder: ${left.slice(0, 20).join(', ')}`,
      );
  };
}
