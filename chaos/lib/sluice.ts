import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../test/helpers/ports';
import { waitFor } from '../../test/helpers/wait';

export const CHAOS_KEY = 'chaos-key-0123456789abcdef';

export interface SluiceProc {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
  alive(): boolean;
  /** True once kill() was called: the fault meant it to die. */
  killed: boolean;
  ready(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<number | string>;
}

export interface SluiceSpawn {
  name: string;
  databaseUrl: string;
  brokers: string[];
  topic: string;
  routes: unknown[];
  env?: Record<string, string>;
}

/** A real `sluice start` child process (bin/sluice.js), named via SLUICE_INSTANCE so the lease row says who leads. */
export async function spawnSluice(o: SluiceSpawn): Promise<SluiceProc> {
  const home = mkdtempSync(join(tmpdir(), 'sluice-chaos-'));
  const configPath = join(home, 'sluice.config.json');
  writeFileSync(configPath, JSON.stringify({ routes: o.routes }));
  const port = await freePort();
  const child = spawn(process.execPath, [resolve('bin/sluice.js'), 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      KAFKA_BROKERS: o.brokers.join(','),
      KAFKA_TOPIC: o.topic,
      SLUICE_LOCAL_KAFKA: 'off',
      PORT: String(port),
      HOST: '127.0.0.1',
      SLUICE_API_KEYS: CHAOS_KEY,
      SLUICE_CONFIG: configPath,
      SLUICE_HOME: home,
      SLUICE_INSTANCE: o.name,
      SLUICE_POLL_MS: '200',
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let dead = false;
  const exited = new Promise<number | string>((res) =>
    child.once('exit', (code, signal) => {
      dead = true;
      rmSync(home, { recursive: true, force: true });
      res(code ?? signal ?? -1);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: SluiceProc = {
    name: o.name,
    url,
    child,
    output: () => out,
    exited,
    alive: () => !dead,
    killed: false,
    ready: async (timeoutMs = 90_000) => {
      await waitFor(
        async () => {
          if (dead) throw new Error(`${o.name} exited during start:\n${out}`);
          const res = await fetch(`${url}/readyz`).catch(() => null);
          return res?.ok;
        },
        `${o.name} ready`,
        { timeoutMs, intervalMs: 100 },
      );
    },
    kill: (signal = 'SIGKILL') => {
      proc.killed = true;
      child.kill(signal);
    },
    stop: async () => {
      if (dead) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}
