import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface BenchSink {
  url: string;
  count(): Promise<number>;
  reset(): void;
  stop(): void;
}

/** Starts bench/lib/sink-server.ts in a child process and resolves once it listens. */
export async function startBenchSink(): Promise<BenchSink> {
  const child: ChildProcess = fork(join(__dirname, 'sink-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`sink exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    count: () =>
      new Promise((resolve) => {
        child.once('message', (m: { count: number }) => resolve(m.count));
        child.send('count');
      }),
    reset: () => child.send('reset'),
    stop: () => child.kill(),
  };
}
