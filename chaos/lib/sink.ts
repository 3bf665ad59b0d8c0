import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export type SinkMode = 'ok' | 'down' | 'error' | 'slow';

/** Parent side of chaos/lib/sink-server.ts: mode switches and what was delivered, by record id. */
export class ChaosSink {
  /** recordId -> eventIds answered 200 (more than one: the same record went out as two events). */
  readonly delivered = new Map<string, Set<string>>();
  duplicates = 0;
  requests = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<ChaosSink> {
    const child = fork(join(__dirname, 'sink-server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`chaos sink exited (${code})`)));
    });
    return new ChaosSink(child, `http://127.0.0.1:${port}`);
  }

  private ask<T>(msg: object, reply: string): Promise<T> {
    return new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== reply) return;
        this.child.off('message', on);
        resolve(m as T);
      };
      this.child.on('message', on);
      this.child.send(msg);
    });
  }

  async setMode(mode: SinkMode, delayMs?: number): Promise<void> {
    await this.ask({ type: 'mode', mode, delayMs }, 'mode-set');
  }

  /** Pulls what the sink answered since the last poll. */
  async poll(): Promise<void> {
    const r = await this.ask<{
      fresh: Array<{ recordId: string; eventId: string }>;
      requests: number;
      duplicates: number;
    }>({ type: 'poll' }, 'poll');
    for (const { recordId, eventId } of r.fresh) {
      const set = this.delivered.get(recordId) ?? new Set<string>();
      set.add(eventId);
      this.delivered.set(recordId, set);
    }
    this.requests = r.requests;
    this.duplicates = r.duplicates;
  }

  stop(): void {
    this.child.kill();
  }
}
