import { fork } from 'node:child_process';
import { join } from 'node:path';

/** What the stamp sink saw per call: record id, arrival, op, the payload's written_at, the event's occurredAt (wall-clock ms). */
export type Stamp = [recordId: string, at: number, op?: string, writtenAt?: number, queuedAt?: number];

/** Starts stamp-sink-server.ts in its own process; `take()` returns and forgets the stamps so far. */
export async function startStampSink() {
  const child = fork(join(__dirname, 'stamp-sink-server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`stamp sink exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    take: () =>
      new Promise<Stamp[]>((resolve) => {
        child.once('message', (m: { stamps: Stamp[] }) => resolve(m.stamps));
        child.send('stamps');
      }),
    stop: () => void child.kill(),
  };
}
