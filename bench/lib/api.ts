import { fork } from 'node:child_process';
import { join } from 'node:path';

export interface BenchApi {
  url: string;
  /** The API process, for /proc sampling (memory, CPU). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/lib/api-server.ts in a child process against `databaseUrl`; resolves once it listens. */
export async function startBenchApi(
  databaseUrl: string,
  apiKey: string,
  webhookSecret: string,
): Promise<BenchApi> {
  const child = fork(join(__dirname, 'api-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      BENCH_API_KEY: apiKey,
      BENCH_WEBHOOK_SECRET: webhookSecret,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`bench api exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    // SIGTERM, then SIGKILL after 5 s: a server whose database was dropped under it may never finish closing.
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
