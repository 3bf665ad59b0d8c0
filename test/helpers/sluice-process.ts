import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports';
import { TEST_KEY } from './service';
import { waitFor } from './wait';

export interface SluiceProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** The route file it was started with (rewrite it and send SIGHUP to reload). */
  configPath: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | string>;
}

export interface SluiceProcessOptions {
  databaseUrl: string;
  /** Brokers, or null for the Kafka leg off. */
  kafkaBrokers: string[] | null;
  routes?: unknown[];
  webhooks?: Record<string, { secret: string }>;
  env?: Record<string, string>;
  /** Wait until /readyz answers (default true). */
  waitReady?: boolean;
}

/**
 * A real `sluice start` in a child process (bin/sluice.js through tsx), for crash, failover and restart
 * tests: it can be SIGKILLed, and several can run against one database.
 */
export async function spawnSluice(o: SluiceProcessOptions): Promise<SluiceProcess> {
  const home = mkdtempSync(join(tmpdir(), 'sluice-proc-'));
  const configPath = join(home, 'sluice.config.json');
  writeFileSync(configPath, JSON.stringify({ routes: o.routes ?? [], webhooks: o.webhooks ?? {} }));
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('bin/sluice.js'), 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      KAFKA_BROKERS: o.kafkaBrokers?.join(',') ?? '',
      SLUICE_LOCAL_KAFKA: 'off',
      PORT: String(port),
      HOST: '127.0.0.1',
      SLUICE_API_KEYS: TEST_KEY,
      SLUICE_CONFIG: configPath,
      SLUICE_HOME: home,
      SLUICE_POLL_MS: '200',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      rmSync(home, { recursive: true, force: true });
      res(code ?? signal ?? -1);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: SluiceProcess = {
    url,
    port,
    child,
    configPath,
    output: () => out,
    exited,
    kill: (signal = 'SIGKILL') => void child.kill(signal),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
  if (o.waitReady !== false) {
    let dead = false;
    void exited.then(() => (dead = true));
    await waitFor(
      async () => {
        if (dead) throw new Error(`sluice exited during start:\n${out}`);
        const res = await fetch(`${url}/readyz`).catch(() => null);
        return res?.ok;
      },
      `sluice on :${port} ready`,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }
  return proc;
}
