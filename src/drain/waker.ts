import { Client } from 'pg';
import { Backoff } from '../lib/retry';

/**
 * LISTENs on the `sluice` channel (or another fixed one) on a dedicated connection and calls `onWake` for each NOTIFY.
 * A latency hint only: if the connection drops, notifications are lost and polling covers for them
 * while it reconnects with backoff.
 */
export class Waker {
  private client: Client | null = null;
  private stopped = false;
  private readonly backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
  connected = false;

  constructor(
    private readonly url: string,
    private readonly onWake: () => void,
    private readonly log?: { warn(o: object, m: string): void },
    /** Channel to LISTEN on (a fixed identifier, never user input). */
    private readonly channel = 'sluice',
  ) {}

  async start(): Promise<void> {
    await this.connect().catch(() => this.scheduleReconnect());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.url, application_name: 'sluice-listen' });
    client.on('notification', () => this.onWake());
    client.on('error', (err) => {
      this.log?.warn({ err: err.message }, 'listen connection lost; polling until it is back');
      this.connected = false;
      client.end().catch(() => undefined);
      if (this.client === client) this.client = null;
      this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.client = client;
    this.connected = true;
    this.backoff.reset();
    this.onWake(); // anything that arrived while we were away
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    setTimeout(() => this.connect().catch(() => this.scheduleReconnect()), this.backoff.next()).unref();
  }
}
