import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { EnvSchema } from '../../src/config/env';
import { readConfigFile, type SluiceConfig } from '../../src/config/load';
import { ConfigFileSchema } from '../../src/config/route-schema';
import { createLogger } from '../../src/lib/logger';
import { startService, type RunningService } from '../../src/service/start';

export const TEST_KEY = 'test-key-0123456789abcdef';

export interface TestServiceOptions {
  databaseUrl: string;
  routes?: unknown[];
  webhooks?: Record<string, { secret: string | string[]; scheme?: 'standard' | 'sluice' }>;
  /** The config file's `alerts` section. */
  alerts?: unknown;
  /** The config file's `backfill` section ({ tables: globs }). */
  backfill?: { tables: string[] };
  env?: Record<string, string>;
  /** false: run with the Kafka leg off. */
  kafka?: boolean;
  /** A route file to read instead of `routes`/`webhooks` (the service watches and reloads it). */
  configFile?: string;
  /** Where the service's JSON logs go (default stdout), e.g. to inspect them. */
  logDestination?: { write(line: string): void };
}

/** The whole service in this process, on a random port, against the test's database and the real broker. */
export async function startTestService(
  o: TestServiceOptions,
): Promise<RunningService & { topic: string; key: string }> {
  const topic = `sluice.test.${randomBytes(4).toString('hex')}`;
  const home = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const env = EnvSchema.parse({
    DATABASE_URL: o.databaseUrl,
    KAFKA_BROKERS: o.kafka === false ? undefined : inject('kafkaBrokers').join(','),
    SLUICE_LOCAL_KAFKA: 'off',
    KAFKA_TOPIC: topic,
    PORT: '0',
    HOST: '127.0.0.1',
    SLUICE_API_KEYS: TEST_KEY,
    SLUICE_HOME: home,
    SLUICE_POLL_MS: '200',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...o.env,
  });
  const file = ConfigFileSchema.parse({
    routes: o.routes ?? [],
    webhooks: o.webhooks ?? {},
    alerts: o.alerts,
    backfill: o.backfill,
  });
  const config: SluiceConfig = o.configFile
    ? { env, configPath: o.configFile, ...readConfigFile(o.configFile, env) }
    : {
        env,
        routes: file.routes,
        webhookSecrets: file.webhooks,
        configPath: null,
        alerts: file.alerts,
        backfillTables: file.backfill.tables,
      };
  const svc = await startService(config, createLogger(env.LOG_LEVEL, 'sluice', o.logDestination));
  const stop = svc.stop;
  // The service's home (its API key file) goes with it: a test run leaves nothing in the temp folder.
  return Object.assign(svc, {
    topic,
    key: TEST_KEY,
    stop: () => stop().finally(() => rmSync(home, { recursive: true, force: true })),
  });
}

/** fetch() against the service with the test key. */
export async function api(
  svc: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}` },
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}
